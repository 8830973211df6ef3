//go:build linux

package harness

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPGBinDirEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PG_BINDIR", dir)
	_, err := PGBinDir()
	require.ErrorContains(t, err, "PG_BINDIR")

	for _, name := range []string{"initdb", "postgres"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755))
	}
	got, err := PGBinDir()
	require.NoError(t, err)
	require.Equal(t, dir, got)
}

func TestPGBinDirHighestVersion(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "13", "15", "16", "notaversion"} {
		dir := filepath.Join(root, v, "bin")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		if v == "16" {
			continue // incomplete: no server binaries
		}
		for _, name := range []string{"initdb", "postgres"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755))
		}
	}
	old := pgLibDir
	pgLibDir = root
	t.Cleanup(func() { pgLibDir = old })
	t.Setenv("PG_BINDIR", "")
	got, err := PGBinDir()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "15", "bin"), got)
}
