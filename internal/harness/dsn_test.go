//go:build linux

package harness

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConnStrings(t *testing.T) {
	pg := &Postgres{Host: "127.0.0.1", Port: 6543, User: "postgres", Password: "pw", Database: "postgres"}
	tests := []struct {
		name, got, want string
	}{
		{"URL", pg.URL(""), "postgres://postgres:pw@127.0.0.1:6543/postgres?sslmode=disable"},
		{"URL params", pg.URL("connect_timeout=5"), "postgres://postgres:pw@127.0.0.1:6543/postgres?sslmode=disable&connect_timeout=5"},
		{"URL sslmode", pg.URL("sslmode=require&a=b"), "postgres://postgres:pw@127.0.0.1:6543/postgres?sslmode=require&a=b"},
		{"KeyValue", pg.KeyValue(""), "host=127.0.0.1 port=6543 user=postgres password=pw dbname=postgres sslmode=disable"},
		{"KeyValue params", pg.KeyValue("keepalives_idle=30"), "host=127.0.0.1 port=6543 user=postgres password=pw dbname=postgres sslmode=disable keepalives_idle=30"},
		{"KeyValue sslmode", pg.KeyValue("sslmode=require"), "host=127.0.0.1 port=6543 user=postgres password=pw dbname=postgres sslmode=require"},
		{"ODBC", pg.ODBC(""), "Driver={Amazon Redshift (x64)};Server=127.0.0.1;Port=6543;Database=postgres;UID=postgres;PWD=pw;SSLMode=disable;"},
		{"ODBC params", pg.ODBC("KeepAlivesIdle=30;"), "Driver={Amazon Redshift (x64)};Server=127.0.0.1;Port=6543;Database=postgres;UID=postgres;PWD=pw;SSLMode=disable;KeepAlivesIdle=30;"},
		{"ODBC sslmode", pg.ODBC("sslMode=require;"), "Driver={Amazon Redshift (x64)};Server=127.0.0.1;Port=6543;Database=postgres;UID=postgres;PWD=pw;sslMode=require;"},
		{"URL IPv6", (&Postgres{Host: "::1", Port: 1, User: "u", Password: "p", Database: "d"}).URL(""), "postgres://u:p@[::1]:1/d?sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
}
