package otelka

import (
	"syscall"

	"github.com/redshift-ka/redshift-ka/internal/sockopt"
)

// SetTCPInfo replaces the collection's TCP_INFO read until restore.
func SetTCPInfo(f func(syscall.Conn) (sockopt.Info, error)) (restore func()) {
	old := tcpInfo
	tcpInfo = f
	return func() { tcpInfo = old }
}
