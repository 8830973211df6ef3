package sysfallback

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procSysRoot is where the kernel's sysctls are read; tests point it at a
// directory of their own.
var procSysRoot = "/proc/sys"

func read() (Values, error) {
	idle, err := readSysctl("net.ipv4.tcp_keepalive_time")
	if err != nil {
		return Values{}, err
	}
	intvl, err := readSysctl("net.ipv4.tcp_keepalive_intvl")
	if err != nil {
		return Values{}, err
	}
	probes, err := readSysctl("net.ipv4.tcp_keepalive_probes")
	if err != nil {
		return Values{}, err
	}
	return Values{
		Idle:         time.Duration(idle) * time.Second,
		Interval:     time.Duration(intvl) * time.Second,
		Count:        probes,
		IdleFrom:     "sysctl net.ipv4.tcp_keepalive_time",
		IntervalFrom: "sysctl net.ipv4.tcp_keepalive_intvl",
		CountFrom:    "sysctl net.ipv4.tcp_keepalive_probes",
	}, nil
}

func readSysctl(name string) (int, error) {
	path := filepath.Join(procSysRoot, strings.ReplaceAll(name, ".", "/"))
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("redshift-ka: read sysctl %s: %w", name, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("redshift-ka: sysctl %s: want a whole number, got %q", name, strings.TrimSpace(string(b)))
	}
	return n, nil
}
