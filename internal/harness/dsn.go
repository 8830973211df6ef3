//go:build linux

package harness

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// URL returns a libpq URL for the server,
//
//	postgres://postgres:PASSWORD@HOST:PORT/postgres?sslmode=disable&PARAMS
//
// where params (like "connect_timeout=5&keepalives_idle=30") is appended
// as is. When params sets sslmode, sslmode=disable is left out.
func (p *Postgres) URL(params string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(p.User, p.Password),
		Host:   net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		Path:   "/" + p.Database,
	}
	params = strings.TrimLeft(params, "?&")
	query := "sslmode=disable"
	switch {
	case hasSSLMode(params):
		query = params
	case params != "":
		query += "&" + params
	}
	return u.String() + "?" + query
}

// socketDSN is a key/value connection string for the server's
// Unix-domain socket, which trusts its clients (no password) and which
// every network namespace reaches.
func (p *Postgres) socketDSN() string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s", kvQuote(p.base), p.Port, kvQuote(p.User), kvQuote(p.Database))
}

// KeyValue returns a libpq key/value connection string for the server,
//
//	host=HOST port=PORT user=postgres password=PASSWORD dbname=postgres sslmode=disable PARAMS
//
// where params (like "connect_timeout=5 keepalives_idle=30") is appended as
// is. When params sets sslmode, sslmode=disable is left out.
func (p *Postgres) KeyValue(params string) string {
	s := fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s",
		kvQuote(p.Host), p.Port, kvQuote(p.User), kvQuote(p.Password), kvQuote(p.Database))
	params = strings.TrimSpace(params)
	if !hasSSLMode(params) {
		s += " sslmode=disable"
	}
	if params != "" {
		s += " " + params
	}
	return s
}

// ODBC returns an ODBC-style connection string for the server,
//
//	Driver={Amazon Redshift (x64)};Server=HOST;Port=PORT;Database=postgres;UID=postgres;PWD=PASSWORD;SSLMode=disable;PARAMS
//
// where params (like "KeepAlivesIdle=30;") is appended as is. When params
// sets SSLMode (in any case), SSLMode=disable; is left out.
func (p *Postgres) ODBC(params string) string {
	s := fmt.Sprintf("Driver={Amazon Redshift (x64)};Server=%s;Port=%d;Database=%s;UID=%s;PWD=%s;",
		p.Host, p.Port, p.Database, p.User, ODBCQuote(p.Password))
	if !hasSSLMode(params) {
		s += "SSLMode=disable;"
	}
	return s + params
}

// JDBC returns a URL of Amazon's Redshift JDBC driver for the server,
//
//	jdbc:redshift://HOST:PORT/DATABASE?user=USER&password=PASSWORD&ssl=false&PARAMS
//
// with the user and password %-escaped, where params (like
// "connectTimeout=5&KeepAlivesIdle=30") is appended as is. When params
// sets sslmode (in any case), ssl=false is left out.
func (p *Postgres) JDBC(params string) string {
	s := fmt.Sprintf("jdbc:redshift://%s/%s?user=%s&password=%s",
		net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), p.Database, url.QueryEscape(p.User), url.QueryEscape(p.Password))
	params = strings.TrimLeft(params, "?&;")
	if !hasSSLMode(params) {
		s += "&ssl=false"
	}
	if params != "" {
		s += "&" + params
	}
	return s
}

// hasSSLMode reports whether connection parameters set sslmode, in any case.
func hasSSLMode(params string) bool {
	return strings.Contains(strings.ToLower(params), "sslmode")
}

// kvQuote quotes a libpq key/value value when it needs it.
func kvQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// ODBCQuote braces an ODBC value when it needs it, as [Postgres.ODBC] does
// for the password.
func ODBCQuote(v string) string {
	if !strings.ContainsAny(v, ";{}") && strings.TrimSpace(v) == v {
		return v
	}
	return "{" + strings.ReplaceAll(v, "}", "}}") + "}"
}
