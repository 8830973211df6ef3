package dsnparse

// keyTable finds a key in a fixed list whatever the case of its ASCII
// letters, as DSN keys match, without a lower-cased copy of the key: the
// parsers look up every key of a DSN, on the path sql.Open pays for.
type keyTable struct {
	keys []string // lower-case
	// slots is an open-addressing index: 1 + the index in keys of a key
	// that hashes there, or 0 for a free slot. At most half are used.
	slots []uint8
	// lengths has bit n set if a key is n bytes long (all are under 64):
	// most keys not in the table are told apart without hashing.
	lengths uint64
}

// newKeyTable builds a keyTable of keys, which must be distinct, fewer than
// 128, and each shorter than 64 bytes.
func newKeyTable(keys []string) *keyTable {
	if len(keys) >= 128 {
		panic("dsnparse: too many keys for a keyTable")
	}
	n := 16
	for n < 2*len(keys) {
		n *= 2
	}
	t := &keyTable{slots: make([]uint8, n)}
	for _, k := range keys {
		k = toLowerASCII(k)
		i := t.start(k)
		for t.slots[i] != 0 {
			if t.keys[t.slots[i]-1] == k {
				panic("dsnparse: keyTable key " + k + " twice")
			}
			i = (i + 1) & (n - 1)
		}
		if len(k) >= 64 {
			panic("dsnparse: keyTable key " + k + " is too long")
		}
		t.keys = append(t.keys, k)
		t.slots[i] = uint8(len(t.keys))
		t.lengths |= 1 << len(k)
	}
	return t
}

// find returns the index in the table's list of key, in any case.
func (t *keyTable) find(key string) (int, bool) {
	if len(key) >= 64 || t.lengths&(1<<len(key)) == 0 {
		return 0, false
	}
	for i := t.start(key); ; i = (i + 1) & (len(t.slots) - 1) {
		j := int(t.slots[i])
		if j == 0 {
			return 0, false
		}
		if equalFoldASCII(t.keys[j-1], key) {
			return j - 1, true
		}
	}
}

// has reports whether key, in any case, is in the table.
func (t *keyTable) has(key string) bool {
	_, ok := t.find(key)
	return ok
}

// start is the slot where the search for key begins: a hash of its
// length and of its first, middle and last bytes, lower-cased.
func (t *keyTable) start(key string) int {
	if key == "" {
		return 0
	}
	h := uint(len(key))*0x9e37 ^ uint(lowerASCII(key[0]))*0x2f1 ^
		uint(lowerASCII(key[len(key)/2]))*0x61 ^ uint(lowerASCII(key[len(key)-1]))*0x1d
	return int(h^h>>7) & (len(t.slots) - 1)
}

// equalFoldASCII reports whether key, with its ASCII letters lower-cased,
// equals lower.
func equalFoldASCII(lower, key string) bool {
	if len(lower) != len(key) {
		return false
	}
	lower = lower[:len(key)] // no bounds checks below
	for i := 0; i < len(key); i++ {
		if c, l := key[i], lower[i]; c != l && (c|0x20 != l || l-'a' > 'z'-'a') {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	return c
}

// toLowerASCII lower-cases the ASCII letters of s.
func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}
