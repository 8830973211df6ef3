package dsnparse

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Setting names one keep-alive setting that a DSN can carry.
type Setting int

// The settings redshift-ka owns. Each is set by any of the keys listed for it
// by [Keys].
const (
	KeepAlive   Setting = iota // SO_KEEPALIVE on or off
	Idle                       // TCP_KEEPIDLE, whole seconds
	Interval                   // TCP_KEEPINTVL, whole seconds
	Count                      // TCP_KEEPCNT, probes
	UserTimeout                // TCP_USER_TIMEOUT, milliseconds
	numSettings
)

// KeyNames holds one DSN key per [Setting], indexed by the setting; an
// empty string stands for a setting the DSN does not mention. It is an
// array, not a map, so that parsing a DSN does not allocate one.
type KeyNames [numSettings]string

// String returns the canonical DSN key of s, such as "KeepAlivesIdle".
func (s Setting) String() string {
	if s < 0 || s >= numSettings {
		return "Setting(" + strconv.Itoa(int(s)) + ")"
	}
	return specs[s].Names[0]
}

// KeySpec describes one setting: the keys that set it, its unit and range.
// The table returned by [Keys] is the single source for parsing, error
// messages and the README's key table.
type KeySpec struct {
	// Setting is what the keys set.
	Setting Setting
	// Names lists the accepted keys, canonical first. Keys match
	// case-insensitively in every DSN form.
	Names []string
	// Want describes the accepted values, as error messages quote it.
	Want string
	// Max is the largest accepted value (the smallest is 0).
	Max int64
	// Unit converts a parsed number into a duration; zero for counts and
	// for the on/off switch.
	Unit time.Duration
	// Default says, for people, what an absent key (and 0) means.
	Default string
}

var specs = [numSettings]KeySpec{
	KeepAlive: {
		Setting: KeepAlive,
		Names:   []string{"KeepAlive", "keepalives", "tcpKeepAlive", "tcp_keepalive"},
		Want:    "1/0, true/false, on/off or yes/no",
		Max:     1,
		Default: "on; 0 turns keep-alive off",
	},
	Idle: {
		Setting: Idle,
		Names:   []string{"KeepAlivesIdle", "KeepAliveIdle", "keepalives_idle", "tcp_keepalive_idle"},
		Want:    "whole seconds 0..32767",
		Max:     32767,
		Unit:    time.Second,
		Default: "the OS value (Linux: sysctl net.ipv4.tcp_keepalive_time)",
	},
	Interval: {
		Setting: Interval,
		Names:   []string{"KeepAlivesInterval", "KeepAliveInterval", "keepalives_interval", "tcp_keepalive_interval"},
		Want:    "whole seconds 0..32767",
		Max:     32767,
		Unit:    time.Second,
		Default: "the OS value (Linux: sysctl net.ipv4.tcp_keepalive_intvl)",
	},
	Count: {
		Setting: Count,
		Names:   []string{"KeepAlivesCount", "KeepAliveCount", "keepalives_count", "tcp_keepalive_count"},
		Want:    "a whole number of probes 0..127",
		Max:     127,
		Default: "the OS value (Linux: sysctl net.ipv4.tcp_keepalive_probes)",
	},
	UserTimeout: {
		Setting: UserTimeout,
		Names:   []string{"tcp_user_timeout"},
		Want:    "whole milliseconds 0..2147483647",
		Max:     2147483647,
		Unit:    time.Millisecond,
		Default: "unset: the OS retransmission limit (Linux: sysctl net.ipv4.tcp_retries2)",
	},
}

// ownedKeys maps every key of specs, lower-cased, to the setting it sets.
var ownedKeys = func() map[string]Setting {
	keys := map[string]Setting{}
	for _, spec := range specs {
		for _, n := range spec.Names {
			keys[asciiLower(n)] = spec.Setting
		}
	}
	return keys
}()

// Keys returns the table of every key redshift-ka owns, one entry per
// setting, in [Setting] order. It is a copy: changing it changes nothing
// that Parse accepts.
func Keys() []KeySpec {
	out := specs // an array: copied
	for i := range out {
		out[i].Names = slices.Clone(out[i].Names)
	}
	return out[:]
}

// owned reports whether key (in any ASCII case) is a key redshift-ka owns
// and removes before the DSN reaches pgx or lib/pq, and which setting it
// sets.
func owned(key string) (Setting, bool) {
	s, ok := ownedKeys[asciiLower(key)]
	return s, ok
}

// parse turns a raw value into a number within the spec's range.
func (k *KeySpec) parse(key, raw string) (int64, error) {
	v := strings.TrimSpace(raw)
	if k.Setting == KeepAlive {
		switch strings.ToLower(v) {
		case "1", "true", "on", "yes":
			return 1, nil
		case "0", "false", "off", "no":
			return 0, nil
		}
		return 0, k.badValue(key, raw, ErrSyntax)
	}
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, k.badValue(key, raw, ErrSyntax)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > uint64(k.Max) {
		return 0, k.badValue(key, raw, ErrRange)
	}
	return int64(n), nil
}

func (k *KeySpec) badValue(key, raw string, kind error) error {
	return valueError(key, raw, kind, "want "+k.Want+", got ")
}

// valueError reports a bad value of a key redshift-ka owns: msg, then the
// value quoted, or a note that it is withheld. A value with white space or
// one of `=;&@#?/:'"\{}` in it, or a long one, may have run on into the rest of
// the DSN through a stray escape or quote, and taken a password with it:
// such a value is neither quoted nor kept in ParseError.Value. Nor is
// the value of a secret's key (SecretAccessKey).
func valueError(key, raw string, kind error, msg string) error {
	if isSecretKey(key) {
		return &ParseError{Key: key, Err: reason(kind, msg+"a value of "+strconv.Itoa(len(raw))+
			" bytes (withheld: a secret)")}
	}
	if len(raw) > 32 || strings.ContainsAny(raw, " \t\n\v\f\r=;&@#?/:'\"\\{}") {
		return &ParseError{Key: key, Err: reason(kind, msg+"a value of "+strconv.Itoa(len(raw))+
			" bytes (withheld: it may hold more of the DSN)")}
	}
	return &ParseError{Key: key, Value: raw, Err: reason(kind, msg+strconv.Quote(raw))}
}
