// Package sysfallback tells what the operating system would do about TCP
// keep-alive on a socket that sets nothing of its own: the values
// redshift-ka leaves in force for every setting a DSN omits or sets to 0.
//
// # Use
//
//	v, err := sysfallback.Read()
//	// v.Idle == 2h0m0s, v.IdleFrom == "sysctl net.ipv4.tcp_keepalive_time"
//
// # Sources
//
//   - Linux: /proc/sys/net/ipv4/tcp_keepalive_time, tcp_keepalive_intvl and
//     tcp_keepalive_probes. They are per network namespace; Read sees the
//     namespace of the calling thread.
//   - macOS and FreeBSD: the sysctls net.inet.tcp.keepidle and keepintvl
//     (milliseconds) and net.inet.tcp.keepcnt.
//   - Windows: the registry values KeepAliveTime and KeepAliveInterval under
//     HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters (milliseconds;
//     7 200 000 and 1 000 when absent), and a count of 10, which Windows
//     does not let one configure.
//   - Elsewhere: the defaults of RFC 1122 and BSD: 2 h, 75 s, 8 probes.
//
// The dialer does not need these values to fall back (it leaves the
// kernel's in force); they are read to report, so Read is not on the dial
// path.
package sysfallback
