// Command etcd is the upstream etcd server, built from the Go module proxy
// (Debian's etcd is too old for kube-apiserver 1.34).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
