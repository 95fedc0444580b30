//go:build tools

// Package tools pins external-dns's command in go.mod/go.sum. sigs.k8s.io/external-dns is a main
// package, so it cannot be imported; it is built by import path from this module instead:
//
//	go build -o external-dns sigs.k8s.io/external-dns
package tools

import _ "sigs.k8s.io/external-dns"
