package sockopt

import "golang.org/x/sys/unix"

// macOS calls the idle time TCP_KEEPALIVE.
const tcpKeepIdle = unix.TCP_KEEPALIVE
