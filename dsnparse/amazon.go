package dsnparse

import (
	"strconv"
	"strings"
)

// amazonKey is one keep-alive or timeout key of Amazon's Redshift drivers:
// what it means there, and what redshift-ka does with it. The table
// amazonTable is the single source for reading these keys and for the
// table in the package docs.
type amazonKey struct {
	Key     string // as the driver's docs spell it; matched in any case
	Driver  string // ODBC, JDBC, Python (redshift_connector)
	Meaning string // what it does in that driver
	Unit    string // its unit and default there
	Source  string // where the driver reads it, in its repository
	act     amazonAct
	setting Setting // for actOwned and actMinutes
}

// amazonAct is what redshift-ka does with an Amazon key.
type amazonAct int

const (
	actOwned      amazonAct = iota // one of the spec table's names
	actMinutes                     // sets Idle, in minutes
	actConnect                     // goes on as connect_timeout, in seconds
	actRefuseNon0                  // refused unless 0: a read time limit
)

// does says, for people, what redshift-ka does with the key.
func (a *amazonKey) does() string {
	switch a.act {
	case actOwned:
		return "sets " + a.setting.String()
	case actMinutes:
		return "sets " + a.setting.String() + " (minutes x 60)"
	case actConnect:
		return "goes on as connect_timeout (seconds)"
	}
	return "refused unless 0: it would end a long COPY or UNLOAD on a healthy connection; keep-alive finds a dead path"
}

const (
	odbcSrc = "amazon-redshift-odbc-driver src/odbc/rsodbc/"
	jdbcSrc = "amazon-redshift-jdbc-driver src/main/java/com/amazon/redshift/"
	pySrc   = "amazon-redshift-python-driver redshift_connector/"
)

var amazonTable = []amazonKey{
	{"KeepAlive", "ODBC", "SO_KEEPALIVE on or off", "1/0, default 1", odbcSrc + "rsodbc.h RS_KEEP_ALIVE, rsconnect.cpp, rslibpq.c (keepalives)", actOwned, KeepAlive},
	{"KeepAliveIdle", "ODBC", "idle time before the first probe", "seconds, default the OS's", odbcSrc + "rsodbc.h RS_KEEP_ALIVE_IDLE, rslibpq.c (keepalives_idle)", actOwned, Idle},
	{"KeepAliveInterval", "ODBC", "time between probes", "seconds, default the OS's", odbcSrc + "rsodbc.h RS_KEEP_ALIVE_INTERVAL, rslibpq.c (keepalives_interval)", actOwned, Interval},
	{"KeepAliveCount", "ODBC", "unanswered probes before the end", "probes, default the OS's", odbcSrc + "rsodbc.h RS_KEEP_ALIVE_COUNT, rslibpq.c (keepalives_count)", actOwned, Count},
	{"LoginTimeout", "ODBC, JDBC", "time limit to connect and log in", "seconds, default 0 (none)", odbcSrc + "rsconnect.cpp (also LT), rslibpq.c (connect_timeout); " + jdbcSrc + "RedshiftProperty.java LOGIN_TIMEOUT", actConnect, 0},
	{"LT", "ODBC", "short name of LoginTimeout", "seconds, default 0 (none)", odbcSrc + "rsconnect.cpp", actConnect, 0},
	{"QueryTimeout", "ODBC", "time limit of each statement", "seconds, default 0 (none)", odbcSrc + "rsodbc.h RS_QUERY_TIMEOUT, rsconnect.cpp (also QT)", actRefuseNon0, 0},
	{"QT", "ODBC", "short name of QueryTimeout", "seconds, default 0 (none)", odbcSrc + "rsconnect.cpp", actRefuseNon0, 0},
	{"tcpKeepAlive", "JDBC", "SO_KEEPALIVE on or off", "true/false, default true", jdbcSrc + "RedshiftProperty.java TCP_KEEP_ALIVE, core/v3/ConnectionFactoryImpl.java", actOwned, KeepAlive},
	{"TCPKeepAliveMinutes", "JDBC", "idle time before the first probe", "minutes; in Amazon's docs (TCP keepalives), a commented-out setting in the source", jdbcSrc + "core/RedshiftJDBCSettings.java", actMinutes, Idle},
	{"connectTimeout", "JDBC", "time limit to open the socket", "seconds, default 10", jdbcSrc + "RedshiftProperty.java CONNECT_TIMEOUT", actConnect, 0},
	{"socketTimeout", "JDBC", "time limit of each socket read", "seconds, default 0 (none)", jdbcSrc + "RedshiftProperty.java SOCKET_TIMEOUT, core/v3/ConnectionFactoryImpl.java", actRefuseNon0, 0},
	{"tcp_keepalive", "Python", "SO_KEEPALIVE on or off", "True/False, default True", pySrc + "core.py Connection.__init__", actOwned, KeepAlive},
	{"tcp_keepalive_idle", "Python", "idle time before the first probe", "seconds, default the OS's", pySrc + "core.py (TCP_KEEPIDLE)", actOwned, Idle},
	{"tcp_keepalive_interval", "Python", "time between probes", "seconds, default the OS's", pySrc + "core.py (TCP_KEEPINTVL)", actOwned, Interval},
	{"tcp_keepalive_count", "Python", "unanswered probes before the end", "probes, default the OS's", pySrc + "core.py (TCP_KEEPCNT)", actOwned, Count},
	{"timeout", "Python", "time limit of each socket operation", "seconds, default None (none)", pySrc + "core.py (socket.settimeout)", actRefuseNon0, 0},
}

// amazonIndex maps the keys of amazonTable, lower-cased, to their rows.
var amazonIndex = func() map[string]*amazonKey {
	m := map[string]*amazonKey{}
	for i := range amazonTable {
		m[asciiLower(amazonTable[i].Key)] = &amazonTable[i]
	}
	return m
}()

// takeAmazon reads a key of amazonTable that is not one of the spec
// table's names.
func (c *collector) takeAmazon(a *amazonKey, key, value string) error {
	v := strings.TrimSpace(value)
	max, want := int64(2147483647), "whole seconds"
	if a.act == actMinutes {
		max, want = specs[a.setting].Max/60, "whole minutes"
	}
	want += " 0.." + strconv.FormatInt(max, 10)
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return valueError(key, value, ErrSyntax, "want "+want+", got ")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > max {
		return valueError(key, value, ErrRange, "want "+want+", got ")
	}
	switch a.act {
	case actMinutes:
		return c.set(a.setting, key, value, n*60)
	case actConnect:
		c.mapped = append(c.mapped, mappedKey{"connect_timeout", key, strconv.FormatInt(n, 10)})
		c.ours(key, "connect_timeout")
		return nil
	}
	if n != 0 {
		return valueError(key, value, ErrNotSupported, "want 0 or no key: a time limit on each read or statement "+
			"ends a long COPY or UNLOAD on a healthy connection; redshift-ka notices a dead path with keep-alive "+
			"(KeepAlivesIdle, KeepAlivesInterval, KeepAlivesCount) instead; got ")
	}
	c.ignore(key, a.Driver, "no time limit (0), as redshift-ka has none")
	return nil
}
