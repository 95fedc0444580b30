//go:build tools

// Package tools pins helm's command in go.mod/go.sum. helm.sh/helm/v3/cmd/helm is a main package,
// so it cannot be imported; it is built by import path from this module instead:
//
//	go build -o helm helm.sh/helm/v3/cmd/helm
package tools

import _ "helm.sh/helm/v3/cmd/helm"
