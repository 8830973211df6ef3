package dsnparse

import (
	"os"
	"strings"
	"testing"
)

// readmeKeyTable renders the key table as the README shows it.
func readmeKeyTable() string {
	var b strings.Builder
	b.WriteString("| setting | keys (any case) | values | absent or 0 |\n|---|---|---|---|\n")
	for _, k := range Keys() {
		b.WriteString("| " + k.Setting.String() + " | `" + strings.Join(k.Names, "`, `") + "` | " + k.Want + " | " + k.Default + " |\n")
	}
	return b.String()
}

// TestREADMEKeyTable keeps the README's key table equal to the spec table.
func TestREADMEKeyTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), readmeKeyTable()) {
		t.Fatalf("README.md's key table is not the spec table; put this in its place:\n%s", readmeKeyTable())
	}
}
