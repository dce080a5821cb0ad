package kql

import "testing"

func TestIPFunctions(t *testing.T) {
	runTable(t, nil, []queryTest{
		// https://learn.microsoft.com/kusto/query/ipv4-is-match-function
		{"ipv4_is_match", `datatable(ip1_string:string, ip2_string:string)
			[
			 '192.168.1.0',    '192.168.1.0',
			 '192.168.1.1/24', '192.168.1.255',
			 '192.168.1.1',    '192.168.1.255/24',
			 '192.168.1.1/30', '192.168.1.255/24',
			]
			| extend result = ipv4_is_match(ip1_string, ip2_string)`, `
			ip1_string:string|ip2_string:string|result:bool
			192.168.1.0|192.168.1.0|true
			192.168.1.1/24|192.168.1.255|true
			192.168.1.1|192.168.1.255/24|true
			192.168.1.1/30|192.168.1.255/24|true`},
		{"ipv4_is_match with a prefix", `datatable(ip1_string:string, ip2_string:string, prefix:long)
			[
			 '192.168.1.1',    '192.168.1.0',   31,
			 '192.168.1.1/24', '192.168.1.255', 31,
			 '192.168.1.1',    '192.168.1.255', 24,
			]
			| extend result = ipv4_is_match(ip1_string, ip2_string, prefix)`, `
			ip1_string:string|ip2_string:string|prefix:long|result:bool
			192.168.1.1|192.168.1.0|31|true
			192.168.1.1/24|192.168.1.255|31|true
			192.168.1.1|192.168.1.255|24|true`},
		// https://learn.microsoft.com/kusto/query/ipv4-compare-function
		{"ipv4_compare", `datatable(ip1_string:string, ip2_string:string)
			[
			 '192.168.1.0',    '192.168.1.0',
			 '192.168.1.1/24', '192.168.1.255',
			 '192.168.1.1',    '192.168.1.255/24',
			 '192.168.1.1/30', '192.168.1.255/24',
			]
			| extend result = ipv4_compare(ip1_string, ip2_string)`, `
			ip1_string:string|ip2_string:string|result:long
			192.168.1.0|192.168.1.0|0
			192.168.1.1/24|192.168.1.255|0
			192.168.1.1|192.168.1.255/24|0
			192.168.1.1/30|192.168.1.255/24|0`},
		// https://learn.microsoft.com/kusto/query/parse-ipv4-function
		{"parse_ipv4", `datatable(ip_string: string)
			[
			    '192.168.1.1', '192.168.1.1/24', '255.255.255.255/31'
			]
			| extend ip_long = parse_ipv4(ip_string)`, `
			ip_string:string|ip_long:long
			192.168.1.1|3232235777
			192.168.1.1/24|3232235776
			255.255.255.255/31|4294967294`},
		// https://learn.microsoft.com/kusto/query/format-ipv4-function
		{"format_ipv4", `datatable(address:string, mask:long)
			[
			 '192.168.1.1', 24,
			 '192.168.1.1', 32,
			 '192.168.1.1/24', 32,
			 '192.168.1.1/24', long(-1),
			]
			| extend result = format_ipv4(address, mask),
			         result_mask = format_ipv4_mask(address, mask)`, `
			address:string|mask:long|result:string|result_mask:string
			192.168.1.1|24|192.168.1.0|192.168.1.0/24
			192.168.1.1|32|192.168.1.1|192.168.1.1/32
			192.168.1.1/24|32|192.168.1.0|192.168.1.0/24
			192.168.1.1/24|-1||`},
		// https://learn.microsoft.com/kusto/query/ipv4-is-in-any-range-function
		{"ipv4_is_in_any_range", `print a = ipv4_is_in_any_range('192.168.1.6', '192.168.1.1/24', '10.0.0.1/8', '127.1.0.1/16'),
			b = ipv4_is_in_any_range("127.0.0.1", dynamic(["127.0.0.1", "192.168.1.1"]))`, `
			a:bool|b:bool
			true|true`},
		{"ipv4_is_in_any_range over a table", `let LocalNetworks=dynamic([
			    "192.168.1.1/16",
			    "127.0.0.1/8",
			    "10.0.0.1/8"
			]);
			let IPs=datatable(IP:string) [
			    "10.1.2.3",
			    "192.168.1.5",
			    "123.1.11.21",
			    "1.1.1.1"
			];
			IPs
			| extend IsLocal=ipv4_is_in_any_range(IP, LocalNetworks)`, `
			IP:string|IsLocal:bool
			10.1.2.3|true
			192.168.1.5|true
			123.1.11.21|false
			1.1.1.1|false`},
		// https://learn.microsoft.com/kusto/query/ipv4-netmask-suffix-function
		{"ipv4_netmask_suffix", `datatable(ip_string:string)['10.1.2.3', '192.168.1.1/24', '127.0.0.1/16'] | extend cidr_suffix = ipv4_netmask_suffix(ip_string)`, `
			ip_string:string|cidr_suffix:long
			10.1.2.3|32
			192.168.1.1/24|24
			127.0.0.1/16|16`},
		// https://learn.microsoft.com/kusto/query/has-ipv4-function, has-ipv4-prefix-function, has-any-ipv4-function
		{"has_ipv4", `print a = has_ipv4('05:04:54 127.0.0.1 GET /favicon.ico 404', '127.0.0.1'),
			b = has_ipv4('05:04:54 127.0.0.256 GET /favicon.ico 404', '127.0.0.256'),
			c = has_ipv4('05:04:54127.0.0.1 GET /favicon.ico 404', '127.0.0.1'),
			d = has_ipv4_prefix('05:04:54 127.0.0.1 GET /favicon.ico 404', '127.0.'),
			e = has_ipv4_prefix('05:04:54 127.0.0.1 GET /favicon.ico 404', '127.0'),
			f = has_ipv4_prefix('05:04:54 127.0.0.256 GET /favicon.ico 404', '127.0.'),
			g = has_ipv4_prefix('05:04:54127.0.0.1 GET /favicon.ico 404', '127.0.'),
			h = has_any_ipv4('05:04:54 127.0.0.1 GET /favicon.ico 404', '127.0.0.1', '127.0.0.2'),
			i = has_any_ipv4('05:04:54 127.0.0.256 GET /favicon.ico 404', dynamic(["127.0.0.256", "192.168.1.1"])),
			j = has_any_ipv4('05:04:54127.0.0.1 GET /favicon.ico 404', '127.0.0.1', '192.168.1.1')`, `
			a:bool|b:bool|c:bool|d:bool|e:bool|f:bool|g:bool|h:bool|i:bool|j:bool
			true|false|false|true|false|false|false|true|false|false`},
		// https://learn.microsoft.com/kusto/query/ipv6-compare-function
		{"ipv6_compare", `datatable(ip1_string:string, ip2_string:string)
			[
			 '192.168.1.1',    '192.168.1.1',
			 '192.168.1.1/24', '192.168.1.255',
			 '192.168.1.1',    '192.168.1.255/24',
			 '192.168.1.1/30', '192.168.1.255/24',
			 'fe80::85d:e82c:9446:7994', 'fe80::85d:e82c:9446:7994',
			 'fe80::85d:e82c:9446:7994/120', 'fe80::85d:e82c:9446:7998',
			 'fe80::85d:e82c:9446:7994', 'fe80::85d:e82c:9446:7998/120',
			 'fe80::85d:e82c:9446:7994/120', 'fe80::85d:e82c:9446:7998/120',
			 '192.168.1.1',      '::ffff:c0a8:0101',
			 '192.168.1.1/24',   '::ffff:c0a8:01ff',
			 '::ffff:c0a8:0101', '192.168.1.255/24',
			 '::192.168.1.1/30', '192.168.1.255/24',
			]
			| extend result = ipv6_compare(ip1_string, ip2_string) | summarize make_set(result)`, `
			set_result:dynamic
			[0]`},
		{"ipv6_compare with a prefix", `datatable(ip1_string:string, ip2_string:string, prefix:long)
			[
			 '192.168.1.1',    '192.168.1.0',   31,
			 '192.168.1.1/24', '192.168.1.255', 31,
			 '192.168.1.1',    '192.168.1.255', 24,
			 'fe80::85d:e82c:9446:7994', 'fe80::85d:e82c:9446:7995',     127,
			 'fe80::85d:e82c:9446:7994/127', 'fe80::85d:e82c:9446:7998', 120,
			 'fe80::85d:e82c:9446:7994/120', 'fe80::85d:e82c:9446:7998', 127,
			 '192.168.1.1/24',   '::ffff:c0a8:01ff', 127,
			 '::ffff:c0a8:0101', '192.168.1.255',    120,
			 '::192.168.1.1/30', '192.168.1.255/24', 127,
			]
			| extend result = ipv6_compare(ip1_string, ip2_string, prefix) | summarize make_set(result)`, `
			set_result:dynamic
			[0]`},
		// https://learn.microsoft.com/kusto/query/parse-ipv6-function
		{"parse_ipv6", `datatable(ipv4: string)['192.168.255.255', '192.168.255.255/24', '255.255.255.255'] | extend ipv6 = parse_ipv6(ipv4)`, `
			ipv4:string|ipv6:string
			192.168.255.255|0000:0000:0000:0000:0000:ffff:c0a8:ffff
			192.168.255.255/24|0000:0000:0000:0000:0000:ffff:c0a8:ff00
			255.255.255.255|0000:0000:0000:0000:0000:ffff:ffff:ffff`},
		// https://learn.microsoft.com/kusto/query/parse-ipv6-mask-function
		{"parse_ipv6_mask", `datatable(ip_string: string, netmask: long)
			[
			    '192.168.255.255', 120,
			    '192.168.255.255/24', 124,
			    '255.255.255.255', 128,
			    'fe80::85d:e82c:9446:7994', 128,
			    'fe80::85d:e82c:9446:7994/120', 124,
			    '::192.168.255.255', 128,
			    '::192.168.255.255/24', 128,
			]
			| extend ip6_canonical = parse_ipv6_mask(ip_string, netmask)`, `
			ip_string:string|netmask:long|ip6_canonical:string
			192.168.255.255|120|0000:0000:0000:0000:0000:ffff:c0a8:ff00
			192.168.255.255/24|124|0000:0000:0000:0000:0000:ffff:c0a8:ff00
			255.255.255.255|128|0000:0000:0000:0000:0000:ffff:ffff:ffff
			fe80::85d:e82c:9446:7994|128|fe80:0000:0000:0000:085d:e82c:9446:7994
			fe80::85d:e82c:9446:7994/120|124|fe80:0000:0000:0000:085d:e82c:9446:7900
			::192.168.255.255|128|0000:0000:0000:0000:0000:ffff:c0a8:ffff
			::192.168.255.255/24|128|0000:0000:0000:0000:0000:ffff:c0a8:ff00`},
		// https://learn.microsoft.com/kusto/query/ipv6-is-in-range-function
		{"ipv6_is_in_range", `datatable(ip_address:string, ip_range:string)
			[
			 'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',    'a5e:f127:8a9d:146d:e102:b5d3:c755:0000/112',
			 'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',    'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',
			 'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',    '0:0:0:0:0:ffff:c0a8:ac/60',
			]
			| extend result = ipv6_is_in_range(ip_address, ip_range) | project result`, `
			result:bool
			true
			true
			false`},
		// https://learn.microsoft.com/kusto/query/geo-info-from-ip-address-function:
		// an object with country, state, city, latitude and longitude "if the
		// information is available"; offline it never is.
		{"geo_info_from_ip_address offline", `print g = geo_info_from_ip_address('20.53.203.50') | extend country = tostring(g.country)`, `
			g:dynamic|country:string
			{}|`},
	})
}
