package dsnparse

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/ini.v1"
)

// Where data sources are looked up, after $ODBCINI; test seams.
var (
	userHomeDir   = os.UserHomeDir
	systemODBCIni = "/etc/odbc.ini"
)

// dataSource is one [section] of an odbc.ini file.
type dataSource struct {
	file  string
	attrs []pair
}

// odbcIniFiles lists the files searched for a data source, in order:
// $ODBCINI, ~/.odbc.ini, /etc/odbc.ini, as unixODBC does.
func odbcIniFiles() []string {
	var files []string
	if f := os.Getenv("ODBCINI"); f != "" {
		files = append(files, f)
	}
	if home, err := userHomeDir(); err == nil && home != "" {
		files = append(files, filepath.Join(home, ".odbc.ini"))
	}
	return append(files, systemODBCIni)
}

// lookupDataSource reads the section name from the first odbc.ini file that
// has it. key is the DSN key as written, for errors.
func lookupDataSource(key, name string) (*dataSource, error) {
	fail := func(msg string) error {
		return &ParseError{Key: key, Value: name, Err: reason(ErrDataSource, msg)}
	}
	if strings.TrimSpace(name) == "" {
		return nil, fail("empty data source name")
	}
	var searched []string
	for _, file := range odbcIniFiles() {
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			searched = append(searched, file+" (absent)")
			continue
		}
		if err != nil {
			return nil, fail("cannot read " + file + ": " + errors.Unwrap(err).Error())
		}
		searched = append(searched, file)
		if key := rewrittenValue(data); key != "" {
			return nil, fail(file + ": the value of " + strconv.Quote(key) + " starts with ` or \"\"\", which the INI reader would not take as written; quote it differently")
		}
		// Values are taken as written: a ';' or '#' in a password is not a
		// comment, a '\' at the end of a line does not join the next, and
		// quotes stay.
		f, err := ini.LoadSources(ini.LoadOptions{
			IgnoreInlineComment:     true,
			IgnoreContinuation:      true,
			PreserveSurroundedQuote: true,
			KeyValueDelimiters:      "=",
		}, data)
		if err != nil {
			// The parser's message quotes the bad line, which may hold a
			// password; say which file only.
			return nil, fail(file + " is not a valid INI file")
		}
		for _, sec := range f.Sections() {
			if !strings.EqualFold(sec.Name(), name) {
				continue
			}
			if sec.Name() == ini.DefaultSection && !hasSection(data, ini.DefaultSection) {
				continue // the keys before the first section, not a data source
			}
			ds := &dataSource{file: file}
			for i, k := range sec.Keys() {
				ds.attrs = append(ds.attrs, pair{key: k.Name(), value: k.Value(), offset: i, file: file, section: sec.Name()})
			}
			return ds, nil
		}
	}
	return nil, fail("data source " + strconv.Quote(name) + " not found; searched " + strings.Join(searched, ", "))
}

// rewrittenValue returns the key of the first value that the INI reader
// would not take as written: one in backquotes or triple double quotes,
// which it unquotes and may continue over several lines.
func rewrittenValue(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(strings.TrimSpace(key), "[") {
			continue
		}
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, "`") || strings.HasPrefix(value, `"""`) {
			return strings.TrimSpace(key)
		}
	}
	return ""
}

// hasSection reports whether data has a [name] header.
func hasSection(data []byte, name string) bool {
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") &&
			strings.TrimSpace(line[1:len(line)-1]) == name {
			return true
		}
	}
	return false
}
