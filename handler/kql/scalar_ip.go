package kql

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// IPv4 and IPv6 functions. Addresses may carry a prefix in IP-prefix (CIDR)
// notation; comparisons use the shortest prefix of the arguments and of the
// optional prefix argument. IPv4 addresses are IPv6 addresses ::ffff:a.b.c.d
// whose prefix n counts as 96+n bits; "::a.b.c.d" is read as IPv4 too, as
// the parse_ipv6_mask() examples do
// (https://learn.microsoft.com/kusto/query/parse-ipv6-mask-function).

func init() {
	register(map[string]*fnDef{
		"ipv4_is_match":        {minArgs: 2, maxArgs: 3, ret: "bool", eval: ipv4Match(false)},
		"ipv4_compare":         {minArgs: 2, maxArgs: 3, ret: "long", eval: ipv4Match(true)},
		"parse_ipv4":           {minArgs: 1, maxArgs: 1, ret: "long", eval: parseIPv4Fn},
		"parse_ipv4_mask":      {minArgs: 2, maxArgs: 2, ret: "long", eval: parseIPv4Fn},
		"format_ipv4":          {minArgs: 1, maxArgs: 2, ret: "string", eval: formatIPv4(false)},
		"format_ipv4_mask":     {minArgs: 1, maxArgs: 2, ret: "string", eval: formatIPv4(true)},
		"ipv4_is_in_any_range": {minArgs: 2, maxArgs: 64, ret: "bool", eval: ipInAnyRange(true)},
		"ipv4_netmask_suffix":  {minArgs: 1, maxArgs: 1, ret: "long", eval: ipv4NetmaskSuffix},
		"has_ipv4":             {minArgs: 2, maxArgs: 2, ret: "bool", eval: hasIPv4(false)},
		"has_ipv4_prefix":      {minArgs: 2, maxArgs: 2, ret: "bool", eval: hasIPv4(true)},
		"has_any_ipv4":         {minArgs: 2, maxArgs: 64, ret: "bool", eval: hasIPv4(false)},
		"has_any_ipv4_prefix":  {minArgs: 2, maxArgs: 64, ret: "bool", eval: hasIPv4(true)},
		"ipv6_compare":         {minArgs: 2, maxArgs: 3, ret: "long", eval: ipv6Match(true)},
		"ipv6_is_match":        {minArgs: 2, maxArgs: 3, ret: "bool", eval: ipv6Match(false)},
		"parse_ipv6":           {minArgs: 1, maxArgs: 1, ret: "string", eval: parseIPv6Fn},
		"parse_ipv6_mask":      {minArgs: 2, maxArgs: 2, ret: "string", eval: parseIPv6Fn},
		"ipv6_is_in_range":     {minArgs: 2, maxArgs: 2, ret: "bool", eval: ipInAnyRange(false)},
		"ipv6_is_in_any_range": {minArgs: 2, maxArgs: 64, ret: "bool", eval: ipInAnyRange(false)},
		// geo_info_from_ip_address looks addresses up in MaxMind's GeoLite2
		// data, which the engine does not have offline: it returns the object
		// without the fields, as when "the information" is not available
		// (https://learn.microsoft.com/kusto/query/geo-info-from-ip-address-function).
		"geo_info_from_ip_address": {minArgs: 1, maxArgs: 1, ret: "dynamic", eval: func(a []any) any {
			if _, ok := parseIP(a[0]); !ok {
				return nil
			}
			return map[string]any{}
		}},
	})
}

// ipNet is an address (IPv4 mapped into IPv6) and its prefix length in bits.
type ipNet struct {
	addr [16]byte
	bits int
	v4   bool
}

// parseIP reads "address[/prefix]"; IPv4 forms (a.b.c.d, ::a.b.c.d,
// ::ffff:a.b.c.d) become v4 with 96+n bits.
func parseIP(v any) (ipNet, bool) {
	s, ok := v.(string)
	if !ok {
		return ipNet{}, false
	}
	s = strings.TrimSpace(s)
	addrText, prefixText, hasPrefix := strings.Cut(s, "/")
	v4 := strings.Contains(addrText, ".")
	if v4 {
		addrText = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(addrText), "::ffff:"), "::")
	}
	a, err := netip.ParseAddr(addrText)
	if err != nil || a.Zone() != "" || v4 != a.Is4() {
		return ipNet{}, false
	}
	n := ipNet{addr: a.As16(), bits: 128, v4: v4}
	if v4 {
		n.addr = mapped4(a.As4())
	}
	if hasPrefix {
		p, err := strconv.Atoi(strings.TrimSpace(prefixText))
		max := 128
		if v4 {
			max = 32
		}
		if err != nil || p < 0 || p > max {
			return ipNet{}, false
		}
		if v4 {
			p += 96
		}
		n.bits = p
	}
	return n, true
}

func mapped4(b [4]byte) [16]byte {
	var out [16]byte
	out[10], out[11] = 0xff, 0xff
	copy(out[12:], b[:])
	return out
}

// parseIPv4Net reads an IPv4 address with an optional prefix (0..32).
func parseIPv4Net(v any) (uint32, int, bool) {
	n, ok := parseIP(v)
	if !ok || !n.v4 {
		return 0, 0, false
	}
	return uint32(n.addr[12])<<24 | uint32(n.addr[13])<<16 | uint32(n.addr[14])<<8 | uint32(n.addr[15]), n.bits - 96, true
}

func mask4(bits int) uint32 {
	if bits <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

// prefixArg reads an optional prefix argument within [0, max].
func prefixArg(a []any, i, max int) (int, bool) {
	if len(a) <= i {
		return max, true
	}
	p, ok := toLong(a[i])
	if !ok || p < 0 || p > int64(max) {
		return 0, false
	}
	return int(p), true
}

// ipv4Match is ipv4_compare (-1, 0, 1) or ipv4_is_match (bool).
func ipv4Match(compare bool) func(a []any) any {
	return func(a []any) any {
		x, px, ok1 := parseIPv4Net(a[0])
		y, py, ok2 := parseIPv4Net(a[1])
		p, ok3 := prefixArg(a, 2, 32)
		if !ok1 || !ok2 || !ok3 {
			return nil
		}
		m := mask4(min(px, py, p))
		c := int64(cmp3(x&m < y&m, x&m > y&m))
		if compare {
			return c
		}
		return c == 0
	}
}

// parse_ipv4(ip) and parse_ipv4_mask(ip, prefix): the masked address as a long.
func parseIPv4Fn(a []any) any {
	x, p, ok := parseIPv4Net(a[0])
	q, ok2 := prefixArg(a, 1, 32)
	if !ok || !ok2 {
		return nil
	}
	return int64(x & mask4(min(p, q)))
}

// format_ipv4(ip [, prefix]) and format_ipv4_mask: ip is text or a number;
// failures give "".
func formatIPv4(withMask bool) func(a []any) any {
	return func(a []any) any {
		var x uint32
		var p int
		switch v := a[0].(type) {
		case int64:
			if v < 0 || v > 0xffffffff {
				return ""
			}
			x, p = uint32(v), 32
		case string:
			var ok bool
			if x, p, ok = parseIPv4Net(v); !ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 && n <= 0xffffffff {
					x, p = uint32(n), 32
				} else {
					return ""
				}
			}
		default:
			return ""
		}
		q, ok := prefixArg(a, 1, 32)
		if !ok {
			return ""
		}
		p = min(p, q)
		x &= mask4(p)
		s := strconv.Itoa(int(x>>24)) + "." + strconv.Itoa(int(x>>16&255)) + "." + strconv.Itoa(int(x>>8&255)) + "." + strconv.Itoa(int(x&255))
		if withMask {
			s += "/" + strconv.Itoa(p)
		}
		return s
	}
}

func ipv4NetmaskSuffix(a []any) any {
	_, p, ok := parseIPv4Net(a[0])
	if !ok {
		return nil
	}
	return int64(p)
}

// ipInAnyRange: is the address in one of the ranges (strings or arrays of
// them)? v4only rejects IPv6 input. null when the address or a range does
// not parse and no range matched.
func ipInAnyRange(v4only bool) func(a []any) any {
	return func(a []any) any {
		ip, ok := parseIP(a[0])
		if !ok || v4only && !ip.v4 {
			return nil
		}
		bad := false
		var ranges []any
		for _, v := range a[1:] {
			ranges = appendFlat(ranges, v)
		}
		for _, r := range ranges {
			n, ok := parseIP(r)
			if !ok || v4only && !n.v4 {
				bad = true
				continue
			}
			if compare128(ip.addr, n.addr, n.bits) == 0 {
				return true
			}
		}
		if bad {
			return nil
		}
		return false
	}
}

// compare128 compares the first bits bits of two addresses.
func compare128(x, y [16]byte, nbits int) int {
	for i := 0; i < 16 && nbits > 0; i++ {
		m := byte(0xff)
		if nbits < 8 {
			m = ^byte(0xff >> nbits)
		}
		if c := cmp3(x[i]&m < y[i]&m, x[i]&m > y[i]&m); c != 0 {
			return c
		}
		nbits -= 8
	}
	return 0
}

// ipv6Match is ipv6_compare (-1, 0, 1) or ipv6_is_match (bool).
func ipv6Match(compare bool) func(a []any) any {
	return func(a []any) any {
		x, ok1 := parseIP(a[0])
		y, ok2 := parseIP(a[1])
		p, ok3 := prefixArg(a, 2, 128)
		if !ok1 || !ok2 || !ok3 {
			return nil
		}
		c := int64(compare128(x.addr, y.addr, min(x.bits, y.bits, p)))
		if compare {
			return c
		}
		return c == 0
	}
}

// parse_ipv6(ip) and parse_ipv6_mask(ip, prefix): the masked address in full
// form, eight groups of four hex digits; "" when it does not parse.
func parseIPv6Fn(a []any) any {
	n, ok := parseIP(a[0])
	p, ok2 := prefixArg(a, 1, 128)
	if !ok || !ok2 {
		return ""
	}
	b := min(n.bits, p)
	var out bytes.Buffer
	for i := 0; i < 16; i++ {
		m := byte(0xff)
		switch {
		case b <= 0:
			m = 0
		case b < 8:
			m = ^byte(0xff >> b)
		}
		b -= 8
		if i > 0 && i%2 == 0 {
			out.WriteByte(':')
		}
		out.WriteString(hex.EncodeToString([]byte{n.addr[i] & m}))
	}
	return out.String()
}

// hasIPv4 implements has_ipv4, has_ipv4_prefix and their has_any_ forms:
// the text must hold a valid IPv4 address delimited by non-alphanumeric
// characters that equals one of the addresses (or starts with one of the
// prefixes: a full address or 1 to 3 octets ending with a dot).
func hasIPv4(prefix bool) func(a []any) any {
	return func(a []any) any {
		var wants [][]byte
		for _, v := range a[1:] {
			for _, w := range appendFlat(nil, v) {
				if o, ok := ipv4Octets(text(w), prefix); ok {
					wants = append(wants, o)
				}
			}
		}
		if len(wants) == 0 {
			return false
		}
		found := false
		scanIPv4(text(a[0]), func(o []byte) bool {
			for _, w := range wants {
				if bytes.HasPrefix(o, w) && (prefix || len(w) == 4) {
					found = true
					return false
				}
			}
			return true
		})
		return found
	}
}

// ipv4Octets parses a dotted address, or with prefix also "a.", "a.b." or "a.b.c.".
func ipv4Octets(s string, prefix bool) ([]byte, bool) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ".")
	if prefix && len(parts) > 1 && len(parts) <= 4 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	} else if len(parts) != 4 {
		return nil, false
	}
	out := make([]byte, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || p == "" || len(p) > 3 || n > 255 || p[0] == '+' || p[0] == '-' {
			return nil, false
		}
		out[i] = byte(n)
	}
	return out, true
}

// scanIPv4 calls f with the octets of each delimited IPv4 address in s until f returns false.
func scanIPv4(s string, f func([]byte) bool) {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isAlnum := func(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.') {
			continue
		}
		j := i
		var octets []byte
		ok := true
		for k := 0; k < 4 && ok; k++ {
			start := j
			for j < len(s) && isDigit(s[j]) && j-start < 4 {
				j++
			}
			n, err := strconv.Atoi(s[start:j])
			if j == start || j-start > 3 || err != nil || n > 255 {
				ok = false
				break
			}
			octets = append(octets, byte(n))
			if k < 3 {
				if j >= len(s) || s[j] != '.' {
					ok = false
					break
				}
				j++
			}
		}
		if !ok || j < len(s) && (isAlnum(s[j]) || s[j] == '.' && j+1 < len(s) && isDigit(s[j+1])) {
			continue
		}
		if !f(octets) {
			return
		}
		i = j
	}
}
