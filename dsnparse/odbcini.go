package dsnparse

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Where data sources are looked up without $ODBCINI and $ODBCSYSINI; test
// seams.
var (
	userHomeDir   = os.UserHomeDir
	systemODBCIni = "/etc/odbc.ini"
)

// maxODBCIni is the largest odbc.ini file read. Real ones are a few
// kilobytes; the limit keeps a path such as /dev/zero from using up memory.
const maxODBCIni = 1 << 20

// dataSource is one [section] of an odbc.ini file.
type dataSource struct {
	file  string
	attrs []pair
}

// odbcIniFiles lists the files searched for a data source, in order, as
// unixODBC does (odbcinst's _odbcinst_UserINI and
// odbcinst_system_file_path): the user's, $ODBCINI or else ~/.odbc.ini,
// then the system's, odbc.ini in the directory $ODBCSYSINI or else
// /etc/odbc.ini.
func odbcIniFiles() []string {
	var files []string
	if f := os.Getenv("ODBCINI"); f != "" {
		files = append(files, f)
	} else if home, err := userHomeDir(); err == nil && home != "" {
		files = append(files, filepath.Join(home, ".odbc.ini"))
	}
	if dir := os.Getenv("ODBCSYSINI"); dir != "" {
		return append(files, filepath.Join(dir, "odbc.ini"))
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
		data, err := readODBCIni(file)
		if errors.Is(err, fs.ErrNotExist) {
			searched = append(searched, file+" (absent)")
			continue
		}
		if err != nil {
			return nil, &ParseError{Key: key, Value: name, Err: &detail{msg: "cannot read " + file + ": " + err.Error(), kind: ErrDataSource, cause: err}}
		}
		searched = append(searched, file)
		ds, err := findSection(file, data, name)
		if err != nil {
			return nil, err
		}
		if ds != nil {
			return ds, nil
		}
	}
	return nil, fail("data source " + strconv.Quote(name) + " not found; searched " + strings.Join(searched, ", "))
}

// readODBCIni reads an odbc.ini file. It reads regular files only, since
// opening a FIFO waits for a writer and a device may never end, and at
// most maxODBCIni bytes. An error other than one for an absent file says
// why in words that need no file name, and wraps the system's error
// (fs.ErrPermission matches a file it may not read).
func readODBCIni(file string) ([]byte, error) {
	// Stat first, and open without blocking: opening a FIFO for reading
	// waits for a writer, and the path may change in between.
	fi, err := os.Stat(file)
	if err != nil {
		return nil, pathError(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fileType(fi.Mode()))
	}
	f, err := os.OpenFile(file, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, pathError(err)
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil {
		return nil, pathError(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fileType(fi.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxODBCIni+1))
	if err != nil {
		return nil, pathError(err)
	}
	if len(data) > maxODBCIni {
		return nil, errors.New("larger than 1 MiB, far above any real odbc.ini")
	}
	return data, nil
}

// pathError drops the path from an *fs.PathError, which the message
// around it names already; fs.ErrNotExist still matches.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileType names the kind of a file that is not a regular one.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// findSection reads the section name (in any case) of an odbc.ini file,
// in the way unixODBC reads one: a line is a [section] header, a comment
// (';' or '#' first), blank, or "key = value" split at the first '='. Keys
// and values are trimmed and otherwise taken as written: a ';' or '#' in a
// value is not a comment, quotes stay, a '\' does not continue a line.
// Lines before the first header belong to no data source. It returns nil
// when the file has no such section, and an error when the section is
// given twice or one of its lines is not "key = value". Errors quote no
// line, which may hold a password.
func findSection(file string, data []byte, name string) (*dataSource, error) {
	var (
		ds      *dataSource
		section string // the header of the section being read, as written
		inside  bool   // reading the section asked for
	)
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, maxODBCIni+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, iniError(file, "", "line "+strconv.Itoa(n)+` is a section header without its "]"`)
			}
			section = strings.TrimSpace(line[1 : len(line)-1])
			inside = strings.EqualFold(section, name)
			if inside && ds != nil {
				return nil, iniError(file, section, "the data source is given twice (again on line "+strconv.Itoa(n)+")")
			}
			if inside {
				ds = &dataSource{file: file}
			}
			continue
		}
		if !inside {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, iniError(file, section, "line "+strconv.Itoa(n)+` is not "key = value"`)
		}
		ds.attrs = append(ds.attrs, pair{key: strings.TrimSpace(k), value: strings.TrimSpace(v),
			line: n, file: file, section: section})
	}
	return ds, nil
}

// iniError reports an odbc.ini file that cannot be read as one.
func iniError(file, section, msg string) error {
	return &ParseError{File: file, Section: section, Err: reason(ErrDataSource, msg)}
}
