//go:build tools

// Package tools pins kubectl's command in go.mod/go.sum. k8s.io/kubernetes/cmd/kubectl is a main
// package, so it cannot be imported; it is built by import path from this module instead:
//
//	go build -o kubectl k8s.io/kubernetes/cmd/kubectl
package tools

import _ "k8s.io/kubernetes/cmd/kubectl"
