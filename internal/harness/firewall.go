//go:build linux

package harness

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The test hosts' addresses, from the documentation ranges of RFC 5737. They
// exist only inside the namespaces a [Firewall] makes, which have no route
// anywhere else.
const (
	ClientAddr     = "192.0.2.1"
	firewallInside = "192.0.2.254"
	firewallOuter  = "198.51.100.254"
	ServerAddr     = "198.51.100.1"
)

// Firewall is three network namespaces, client -> firewall -> server,
// joined by veth pairs. The firewall is the kernel's: it forwards only
// flows conntrack knows (a new flow must start with a SYN), with
// nf_conntrack_tcp_loose=0, and forgets an established flow that has been
// silent for IdleTimeout. A forgotten flow's later packets are dropped
// without a reset, as a NAT gateway or a stateful firewall does.
//
// A user-space proxy cannot stand in for this: its own kernel would answer
// the keep-alive probes.
type Firewall struct {
	// Client, FW and Server are the three namespaces: the client at
	// ClientAddr, the firewall between, the server at ServerAddr.
	Client, FW, Server *Netns
	// IdleTimeout is nf_conntrack_tcp_timeout_established in the firewall.
	IdleTimeout time.Duration
}

// nftRules: a "cut" chain, empty unless the path is cut, then the tracked
// flows. Everything else is dropped.
const nftRules = `
table inet rska {
	chain cut {
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		jump cut
		ct state established,related accept
		ct state new tcp flags & (fin|syn|rst|ack) == syn accept
	}
}
`

// NewFirewall builds the topology with a firewall that forgets idle flows
// after idle (whole seconds). Close tears it down.
func NewFirewall(idle time.Duration) (f *Firewall, err error) {
	if idle < time.Second || idle%time.Second != 0 {
		return nil, fmt.Errorf("harness: firewall idle timeout must be whole seconds, got %s", idle)
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return nil, errors.New("harness: nft not found; install Debian's nftables")
	}
	f = &Firewall{IdleTimeout: idle}
	defer func() {
		if err != nil {
			f.Close()
			f = nil
		}
	}()
	for _, p := range []struct {
		ns     **Netns
		prefix string
	}{{&f.Client, "cli"}, {&f.FW, "fw"}, {&f.Server, "srv"}} {
		if *p.ns, err = NewNetns(p.prefix); err != nil {
			return f, err
		}
	}
	if err := Veth(f.Client, "eth0", ClientAddr+"/24", f.FW, "inside", firewallInside+"/24"); err != nil {
		return f, err
	}
	if err := Veth(f.Server, "eth0", ServerAddr+"/24", f.FW, "outside", firewallOuter+"/24"); err != nil {
		return f, err
	}
	for _, r := range []struct {
		ns  *Netns
		via string
		dst string
	}{{f.Client, firewallInside, "198.51.100.0/24"}, {f.Server, firewallOuter, "192.0.2.0/24"}} {
		if _, err := r.ns.Run("ip", "route", "add", r.dst, "via", r.via); err != nil {
			return f, err
		}
	}
	if err := f.nft(nftRules); err != nil {
		return f, err
	}
	// The conntrack sysctls exist once the rules above have loaded conntrack
	// in the firewall's namespace.
	for k, v := range map[string]string{
		"net.ipv4.ip_forward":                                "1",
		"net.netfilter.nf_conntrack_tcp_loose":               "0",
		"net.netfilter.nf_conntrack_tcp_timeout_established": strconv.Itoa(int(idle / time.Second)),
	} {
		if err := f.FW.Sysctl(k, v); err != nil {
			return f, err
		}
	}
	return f, nil
}

// NewFirewallT builds a firewall for a test, or skips (fails in CI) where
// it cannot, and tears it down with the test.
func NewFirewallT(t T, idle time.Duration) *Firewall {
	t.Helper()
	NeedRoot(t)
	_, err := exec.LookPath("nft")
	Need(t, err == nil, "needs nft (Debian's nftables)")
	f, err := NewFirewall(idle)
	if err != nil {
		t.Fatalf("new firewall: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close firewall: %v", err)
		}
	})
	return f
}

// nft loads rules into the firewall's namespace.
func (f *Firewall) nft(rules string) error {
	cmd := exec.Command("ip", "netns", "exec", f.FW.Name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("harness: nft in %s: %w: %s", f.FW.Name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Cut drops every packet the firewall would forward, in both directions,
// without a reset: the path is dead.
func (f *Firewall) Cut() error { return f.nft("add rule inet rska cut drop\n") }

// CutPort drops, without a reset, every packet of the flows whose client
// port is port, in both directions: that connection's path is dead, while
// new connections pass.
func (f *Firewall) CutPort(port int) error {
	return f.nft(fmt.Sprintf("add rule inet rska cut tcp sport %d drop\nadd rule inet rska cut tcp dport %d drop\n", port, port))
}

// CutAtServerPacket cuts the path of each flow, in both directions and
// without a reset, from the first packet the server sends on it that is
// over size bytes long (IP length; that packet is dropped too): a path that
// dies at a chosen point of a protocol, such as the server's certificate
// in a TLS handshake. Packets of up to size bytes (acknowledgements,
// keep-alive answers) pass until then.
func (f *Firewall) CutAtServerPacket(size int) error {
	return f.nft(fmt.Sprintf("add rule inet rska cut ct mark 1 drop\n"+
		"add rule inet rska cut ip saddr %s ip length > %d ct mark set 1 drop\n", ServerAddr, size))
}

// Restore undoes Cut and CutPort. Flows the firewall forgot meanwhile stay forgotten.
func (f *Firewall) Restore() error { return f.nft("flush chain inet rska cut\n") }

// Flows lists the flows conntrack tracks now, one per line, as nft's
// conntrack listing (via /proc) shows them; for failure messages.
func (f *Firewall) Flows() string {
	out, err := f.FW.Run("cat", "/proc/net/nf_conntrack")
	if err != nil {
		return "(conntrack table unreadable: " + err.Error() + ")"
	}
	return out
}

// Close deletes the three namespaces, and with them the veth pairs and the
// rules. It is safe to call more than once.
func (f *Firewall) Close() error {
	var errs []error
	for _, ns := range []*Netns{f.Client, f.FW, f.Server} {
		if ns != nil {
			errs = append(errs, ns.Close())
		}
	}
	return errors.Join(errs...)
}
