//go:build linux

package harness

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// netnsRunDir is where `ip netns` keeps its named namespaces. A test seam.
var netnsRunDir = "/run/netns"

// Netns is a named network namespace made with `ip netns add`. It has its own
// interfaces (only "lo", up, at first), addresses, routes, nftables ruleset
// and net.* sysctls, so 127.0.0.1:5432 in one namespace is not 127.0.0.1:5432
// in another.
//
// A Netns built from a literal (&Netns{Name: "x"}) can use every method but
// [Netns.Close] deletes the namespace whoever made it.
type Netns struct {
	// Name is the namespace's name, as in `ip netns exec NAME ...` and
	// /run/netns/NAME.
	Name string

	mu     sync.Mutex
	closed bool
}

// NewNetns creates a network namespace named "rska-" + prefix + "-" + this
// process's id + "-" + 6 random hex digits and brings its loopback
// interface up. prefix is cut to 6 characters ("ns" when empty). It needs
// root. Call [Netns.Close] to delete it; [CloseAll] deletes every one this
// process still has (on an interrupt, say), and the first call in a process
// deletes those left by runs that died.
func NewNetns(prefix string) (*Netns, error) {
	staleOnce.Do(removeStaleNetns)
	if prefix == "" {
		prefix = "ns"
	}
	if len(prefix) > 6 {
		prefix = prefix[:6]
	}
	var lastErr error
	for range 5 { // a name clash is the only reason to try again
		suffix, err := randomHex(3)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("rska-%s-%d-%s", prefix, os.Getpid(), suffix)
		if _, err := os.Stat(filepath.Join(netnsRunDir, name)); err == nil {
			continue
		}
		if _, err := runIP("netns", "add", name); err != nil {
			lastErr = err
			if _, statErr := os.Stat(filepath.Join(netnsRunDir, name)); statErr == nil {
				continue // lost a race for the name
			}
			return nil, err
		}
		n := &Netns{Name: name}
		liveMu.Lock()
		live[n] = true
		liveMu.Unlock()
		if _, err := runIP("-n", name, "link", "set", "lo", "up"); err != nil {
			return nil, errors.Join(err, n.Close())
		}
		return n, nil
	}
	return nil, fmt.Errorf("harness: no free network namespace name with prefix %q: %w", prefix, lastErr)
}

// NewNetnsT is [NewNetns] for a test: it skips (or, when [Strict], fails) the
// test unless run as root, fails it if the namespace cannot be made, and
// deletes the namespace when the test ends.
func NewNetnsT(t T, prefix string) *Netns {
	t.Helper()
	NeedRoot(t)
	n, err := NewNetns(prefix)
	if err != nil {
		t.Fatalf("new network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close network namespace: %v", err)
		}
	})
	return n
}

// Close deletes the namespace with `ip netns del`. Processes still running in
// it keep it alive, unnamed, until they exit. Calling Close again does
// nothing and returns nil.
func (n *Netns) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	if _, err := runIP("netns", "del", n.Name); err != nil {
		return err
	}
	n.closed = true
	liveMu.Lock()
	delete(live, n)
	liveMu.Unlock()
	return nil
}

var (
	liveMu    sync.Mutex
	live      = map[*Netns]bool{} // made by this process and not closed
	staleOnce sync.Once
	staleName = regexp.MustCompile(`^rska-[a-z0-9]+-([0-9]+)-[0-9a-f]{6}$`)
)

// CloseAll deletes every namespace this process made and has not closed.
func CloseAll() error {
	liveMu.Lock()
	all := make([]*Netns, 0, len(live))
	for n := range live {
		all = append(all, n)
	}
	liveMu.Unlock()
	var errs []error
	for _, n := range all {
		errs = append(errs, n.Close())
	}
	return errors.Join(errs...)
}

// removeStaleNetns deletes the namespaces of earlier runs whose process is
// gone (killed before it could clean up), so they cannot pile up.
func removeStaleNetns() {
	entries, err := os.ReadDir(netnsRunDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if pid, err := strconv.Atoi(m[1]); err == nil && !processAlive(pid) {
			_, _ = runIP("netns", "del", e.Name())
		}
	}
}

// Run runs a command inside the namespace with `ip netns exec NAME args...`
// and returns its combined output. The command inherits this process's
// environment. On failure the error holds the command and its output.
func (n *Netns) Run(args ...string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("harness: Netns.Run: no command")
	}
	return runIP(append([]string{"netns", "exec", n.Name}, args...)...)
}

// Sysctl sets a sysctl inside the namespace, like `sysctl -w key=value` run
// there: key "net.ipv4.tcp_keepalive_time" writes
// /proc/sys/net/ipv4/tcp_keepalive_time. A key holding "/" is taken as a path
// under /proc/sys as is (for names with dots, such as interface names). Only
// the net.* sysctls are per namespace; writing any other key changes it for
// the whole machine.
func (n *Netns) Sysctl(key, value string) error {
	path, err := sysctlPath(key)
	if err != nil {
		return err
	}
	return n.Do(func() error {
		if err := os.WriteFile(path, []byte(value+"\n"), 0); err != nil {
			return fmt.Errorf("harness: sysctl %s=%s in netns %s: %w", key, value, n.Name, err)
		}
		return nil
	})
}

// procSysRoot is where sysctls live. A test seam.
var procSysRoot = "/proc/sys"

// sysctlPath maps a sysctl key to its file under procSysRoot.
func sysctlPath(key string) (string, error) {
	rel := key
	if !strings.Contains(key, "/") {
		rel = strings.ReplaceAll(key, ".", "/")
	}
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("harness: bad sysctl key %q", key)
		}
	}
	return filepath.Join(procSysRoot, rel), nil
}

// Do runs fn on an OS thread that has entered the namespace, then moves the
// thread back to the network namespace it came from.
//
// Inside fn:
//   - sockets fn creates (net.Dial, net.Listen, syscalls) belong to the
//     namespace and keep belonging to it after Do returns;
//   - files under /proc/sys/net read and write the namespace's sysctls;
//   - child processes started by fn (os/exec) start inside the namespace.
//
// Only the calling goroutine moves: goroutines fn starts run elsewhere, in
// the original namespace, and so does name resolution that Go hands to
// another thread, so dial IP literals. /sys, /proc/net and /proc/self/net
// still show the original namespace (use /proc/thread-self/net).
//
// Do locks the goroutine to its thread while fn runs. If the thread cannot
// be moved back, Do leaves it locked, so the Go runtime ends the thread
// with the goroutine instead of reusing it, and returns an error.
func (n *Netns) Do(fn func() error) (err error) {
	target, err := unix.Open(filepath.Join(netnsRunDir, n.Name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("harness: open netns %s: %w", n.Name, err)
	}
	defer unix.Close(target)

	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("harness: open current netns: %w", err)
	}
	defer unix.Close(orig)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("harness: enter netns %s: %w", n.Name, err)
	}
	// Deferred so that the thread is restored even if fn panics.
	defer func() {
		if restoreErr := unix.Setns(orig, unix.CLONE_NEWNET); restoreErr != nil {
			// Stay locked: the thread dies with this goroutine.
			err = errors.Join(err, fmt.Errorf("harness: leave netns %s: %w", n.Name, restoreErr))
			return
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// Veth creates a veth pair, puts end aIf in namespace a and end bIf in
// namespace b, gives each end its address (CIDR, like "192.0.2.1/24"; ""
// for none) and brings both up. A nil namespace means the current one.
// Interface names are at most 15 characters. Deleting either namespace
// deletes the pair.
func Veth(a *Netns, aIf, aAddrCIDR string, b *Netns, bIf, bAddrCIDR string) error {
	if a == nil && b != nil {
		a, aIf, aAddrCIDR, b, bIf, bAddrCIDR = b, bIf, bAddrCIDR, a, aIf, aAddrCIDR
	}
	add := append(ipNetnsFlag(a), "link", "add", aIf, "type", "veth", "peer", "name", bIf)
	switch {
	case b != nil:
		add = append(add, "netns", b.Name)
	case a != nil:
		// The peer goes back to this process's namespace, named by our PID.
		add = append(add, "netns", strconv.Itoa(os.Getpid()))
	}
	if _, err := runIP(add...); err != nil {
		return err
	}
	if err := vethSetup(a, aIf, aAddrCIDR, b, bIf, bAddrCIDR); err != nil {
		_, delErr := runIP(append(ipNetnsFlag(a), "link", "del", aIf)...)
		return errors.Join(err, delErr)
	}
	return nil
}

// vethSetup assigns the addresses of a new veth pair and brings it up.
func vethSetup(a *Netns, aIf, aAddrCIDR string, b *Netns, bIf, bAddrCIDR string) error {
	for _, end := range []struct {
		ns       *Netns
		ifName   string
		addrCIDR string
	}{{a, aIf, aAddrCIDR}, {b, bIf, bAddrCIDR}} {
		if end.addrCIDR != "" {
			if _, err := runIP(append(ipNetnsFlag(end.ns), "addr", "add", end.addrCIDR, "dev", end.ifName)...); err != nil {
				return err
			}
		}
		if _, err := runIP(append(ipNetnsFlag(end.ns), "link", "set", end.ifName, "up")...); err != nil {
			return err
		}
	}
	return nil
}

// ipNetnsFlag returns the `ip -n NAME` flag for ns, or nothing for nil.
func ipNetnsFlag(ns *Netns) []string {
	if ns == nil {
		return nil
	}
	return []string{"-n", ns.Name}
}

// runIP runs the ip(8) command with args and returns its combined output;
// the error holds the command line and output.
func runIP(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("harness: ip %s: %w: %s",
			strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// randomHex returns 2*n random hex digits.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("harness: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
