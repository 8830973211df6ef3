package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// statement is one SQL statement of exec's input.
type statement struct {
	// text is the statement as written, without the ';' that ends it and
	// without the white space around it. Comments before it are kept (a
	// planner hint may live there).
	text string
	// line is the line of the input its first word is on, 1-based.
	line int
	// summary is the statement on one short line, for status lines: no
	// comments, white space collapsed, and the contents of string
	// literals left out, since they may hold credentials (CREDENTIALS
	// '...', PASSWORD '...').
	summary string
	// copyIn is COPY ... FROM STDIN; copyOut is COPY ... TO STDOUT.
	copyIn, copyOut bool
}

// tokenKind is what a token of SQL is.
type tokenKind int

const (
	tkSpace   tokenKind = iota
	tkComment           // -- to the end of the line, or /* ... */ (nested)
	tkWord              // a keyword, identifier or number
	tkString            // '...', E'...'
	tkIdent             // "..."
	tkDollar            // $tag$ ... $tag$
	tkPunct             // one other byte: ; ( ) and the rest
)

type token struct {
	kind       tokenKind
	start, end int // the bytes of the input
	line       int // the line it starts on
}

// summaryLen is how many characters of a statement a status line shows.
const summaryLen = 60

// splitSQL splits src into statements at each ';' that is outside string
// literals, quoted identifiers, dollar-quoted bodies, comments and
// parentheses, and outside the BEGIN ATOMIC ... END body of CREATE
// FUNCTION or PROCEDURE, as psql does. Statements holding only comments
// are dropped. backslashQuotes reads a backslash in a '...' literal as an
// escape, as a server with standard_conforming_strings off does; E'...'
// literals always are. An unterminated literal, identifier, body or
// comment, or a psql meta-command (\copy, \i, ...), is an error that names
// its line.
func splitSQL(src string, backslashQuotes bool) ([]statement, error) {
	toks, err := lex(src, backslashQuotes)
	if err != nil {
		return nil, err
	}
	var (
		out   []statement
		cur   []token
		depth int // parentheses
		begin int // BEGIN ... END in a routine body
		words []string
	)
	flush := func() error {
		st, ok, err := makeStatement(src, cur)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, st)
		}
		cur, depth, begin, words = nil, 0, 0, nil
		return nil
	}
	for _, t := range toks {
		text := src[t.start:t.end]
		switch {
		case t.kind == tkPunct && text == "(":
			depth++
		case t.kind == tkPunct && text == ")":
			depth = max(depth-1, 0)
		case t.kind == tkPunct && text == ";" && depth == 0 && begin == 0:
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		case t.kind == tkWord:
			w := strings.ToLower(text)
			words = append(words, w)
			if depth == 0 && isRoutine(words) {
				switch {
				case w == "begin":
					begin++
				case w == "case" && begin > 0:
					begin++
				case w == "end" && begin > 0:
					begin--
				}
			}
		}
		if len(cur) > 0 || t.kind != tkSpace {
			cur = append(cur, t)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// isRoutine reports whether a statement starting with words is CREATE [OR
// REPLACE] FUNCTION or PROCEDURE.
func isRoutine(words []string) bool {
	if len(words) < 2 || words[0] != "create" {
		return false
	}
	kind := words[1]
	if kind == "or" {
		if len(words) < 4 || words[2] != "replace" {
			return false
		}
		kind = words[3]
	}
	return kind == "function" || kind == "procedure"
}

// makeStatement builds a statement from its tokens; ok is false when they
// hold no SQL (only comments and white space).
func makeStatement(src string, toks []token) (st statement, ok bool, err error) {
	for len(toks) > 0 && toks[len(toks)-1].kind == tkSpace {
		toks = toks[:len(toks)-1]
	}
	var (
		sum   strings.Builder
		words []string // outside parentheses, lower-cased
		depth int
	)
	for _, t := range toks {
		text := src[t.start:t.end]
		switch t.kind {
		case tkComment:
			continue
		case tkSpace:
			if sum.Len() > 0 && !strings.HasSuffix(sum.String(), " ") {
				sum.WriteByte(' ')
			}
			continue
		}
		if !ok {
			ok, st.line = true, t.line
			if t.kind == tkPunct && text == `\` {
				return statement{}, false, fmt.Errorf("line %d: psql meta-commands (\\copy, \\i, \\set, ...) are not supported: exec sends SQL only", t.line)
			}
		}
		switch t.kind {
		case tkString:
			q := strings.IndexByte(text, '\'')
			sum.WriteString(text[:q+1] + "…'")
		case tkDollar:
			tag := text[:strings.IndexByte(text[1:], '$')+2]
			sum.WriteString(tag + "…" + tag)
		case tkPunct:
			switch text {
			case "(":
				depth++
			case ")":
				depth = max(depth-1, 0)
			}
			sum.WriteString(text)
		default:
			if t.kind == tkWord && depth == 0 {
				words = append(words, strings.ToLower(text))
			}
			sum.WriteString(text)
		}
	}
	if !ok {
		return statement{}, false, nil
	}
	// A line comment at the end may carry trailing white space.
	st.text = strings.TrimRight(src[toks[0].start:toks[len(toks)-1].end], sqlSpace)
	st.summary = shorten(strings.Trim(sum.String(), sqlSpace), summaryLen)
	if len(words) > 0 && words[0] == "copy" {
		for i := 1; i+1 < len(words); i++ {
			st.copyIn = st.copyIn || words[i] == "from" && words[i+1] == "stdin"
			st.copyOut = st.copyOut || words[i] == "to" && words[i+1] == "stdout"
		}
	}
	return st, true, nil
}

// shorten cuts s to n characters, ending it with "…" when cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// lex cuts src into tokens, following PostgreSQL's lexer for everything
// that can hide a ';'.
func lex(src string, backslashQuotes bool) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		start, startLine := i, line
		c := src[i]
		kind := tkPunct
		var err error
		switch {
		case isSpaceByte(c):
			kind = tkSpace
			for i < len(src) && isSpaceByte(src[i]) {
				i++
			}
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			kind = tkComment
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(src)
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			kind = tkComment
			i, err = blockComment(src, i, startLine)
		case c == '\'':
			kind = tkString
			i, err = quoted(src, i, '\'', backslashQuotes, startLine)
		case c == '"':
			kind = tkIdent
			i, err = quoted(src, i, '"', false, startLine)
		case c == '$' && !(i > 0 && isWordByte(src[i-1])) && dollarTag(src[i:]) != "":
			kind = tkDollar
			tag := dollarTag(src[i:])
			j := strings.Index(src[i+len(tag):], tag)
			if j < 0 {
				return nil, fmt.Errorf("line %d: dollar-quoted text %s is not closed", startLine, tag)
			}
			i += len(tag) + j + len(tag)
		case isWordByte(c) && c != '$':
			kind = tkWord
			for i < len(src) && isWordByte(src[i]) {
				i++
			}
			// E'...' (and e'...') reads backslash escapes.
			if w := src[start:i]; (w == "E" || w == "e") && i < len(src) && src[i] == '\'' {
				kind = tkString
				i, err = quoted(src, i, '\'', true, startLine)
			}
		default:
			i++
		}
		if err != nil {
			return nil, err
		}
		line += strings.Count(src[start:i], "\n")
		toks = append(toks, token{kind: kind, start: start, end: i, line: startLine})
	}
	return toks, nil
}

// quoted returns the index after the literal or identifier that opens at
// src[i]. A doubled quote stands for itself; with backslash, so does a
// quote after a backslash.
func quoted(src string, i int, q byte, backslash bool, line int) (int, error) {
	for j := i + 1; j < len(src); j++ {
		switch {
		case backslash && src[j] == '\\':
			j++
		case src[j] == q && j+1 < len(src) && src[j+1] == q:
			j++
		case src[j] == q:
			return j + 1, nil
		}
	}
	what := "string literal"
	if q == '"' {
		what = "quoted identifier"
	}
	return 0, fmt.Errorf("line %d: %s is not closed (a %c is missing)", line, what, q)
}

// blockComment returns the index after the /* ... */ comment at src[i];
// comments nest.
func blockComment(src string, i, line int) (int, error) {
	depth := 0
	for i < len(src) {
		switch {
		case strings.HasPrefix(src[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(src[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i, nil
			}
		default:
			i++
		}
	}
	return 0, fmt.Errorf("line %d: comment /* is not closed (a */ is missing)", line)
}

// dollarTag returns the $tag$ that s starts with, or "".
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
		case c >= '0' && c <= '9' && j > 1:
		default:
			return ""
		}
	}
	return ""
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// sqlSpace is white space to PostgreSQL: ASCII only.
const sqlSpace = " \t\n\r\f\v"

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
