//go:build !linux

package integration_test

import (
	"errors"
	"net"
)

// errNoECN: the proxy carries ECN codepoints only on Linux.
var errNoECN = errors.New("proxy: ECN is only carried on Linux")

func enableECN(*net.UDPConn) error { return errNoECN }

func parseECN([]byte) byte { return 0 }

func appendECN(oob []byte, _ byte, _ bool) []byte { return oob }
