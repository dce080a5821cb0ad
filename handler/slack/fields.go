package slack

import (
	"regexp"
	"slices"
	"strings"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Which columns of a finding a message shows, and how it names them. These are rules about what
// the data means rather than how Slack lays it out; each is one small function so that it can move
// to the domain as it is.

// headline is what happened and where, as a finding's header says it (see headlineOf).
type headline struct {
	what, host, account, status string // raw text; host, account and status may be empty
	statusCol                   string // the column status comes from, when it is shown
}

// headlineOf says what happened and where, from the hunt's entity mappings and a status column:
// the hunt's name without a trailing "(...)" tag, the first Host and the first Account value, and
// how the run ended when it did not succeed ("Azure VM Run Command linked with MDE on Web-Prod-01
// by alice@contoso.com failed"). A status column is one named Status or ending in Status
// (ActivityStatus). Without a host or an account, what happened is the hunt's whole name.
func headlineOf(h *hunt.Hunt, f *hunt.Finding) headline {
	hl := headline{host: entityOfType(h, f, "Host"), account: entityOfType(h, f, "Account")}
	hl.what = huntName(h)
	if hl.host != "" || hl.account != "" {
		if i := strings.LastIndex(hl.what, " ("); i > 0 && strings.HasSuffix(hl.what, ")") {
			hl.what = hl.what[:i]
		}
	}
	for _, c := range f.Fields {
		name := strings.ToLower(c.Name)
		if len(c.List) > 0 || strings.TrimSpace(c.Text) == "" || !strings.HasSuffix(name, "status") {
			continue
		}
		if hl.status = statusWord(c.Text); hl.status != "" {
			hl.statusCol = c.Name
		}
		break
	}
	return hl
}

// statusWord says how a run ended when it did not succeed: "failed", "timed out", "still running"
// (no end logged yet: a script that hangs looks like this), "canceled", or the value itself in
// brackets when it is not a known status; "" for a success.
func statusWord(v string) string {
	switch strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(v))) {
	case "success", "succeeded", "completed", "ok":
		return ""
	case "failure", "failed", "fail", "error":
		return "failed"
	case "timeout", "timedout":
		return "timed out"
	case "start", "started", "accept", "accepted", "running", "inprogress":
		return "still running"
	case "canceled", "cancelled":
		return "canceled"
	}
	return "(" + strings.TrimSpace(v) + ")"
}

// entityOfType returns the first non-empty value of the hunt's entities of type typ.
func entityOfType(h *hunt.Hunt, f *hunt.Finding, typ string) string {
	for _, e := range h.Entities {
		if !strings.EqualFold(e.EntityType, typ) {
			continue
		}
		for _, m := range e.FieldMappings {
			if v := strings.TrimSpace(f.Value(m.ColumnName)); v != "" {
				return v
			}
		}
	}
	return ""
}

// render writes the headline within max units, escaped by esc: the status is never cut, the host
// and the account are cut to a third of max each, and what happened takes the rest.
func (hl headline) render(esc func(string, int) string, max int) string {
	var tail string
	if hl.host != "" {
		tail += " on " + esc(hl.host, max/3)
	}
	if hl.account != "" {
		tail += " by " + esc(hl.account, max/3)
	}
	if hl.status != "" {
		tail += " " + esc(hl.status, 40)
	}
	return esc(hl.what, max-textLen(tail)) + tail
}

// resourceID is an ARM resource id: its resource group, and the rest of the path after the
// provider namespace (type/name pairs).
var resourceID = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/[^/]+/([^/]+/[^/]+(?:/[^/]+/[^/]+)*)$`)

// entityText is how a message shows an entity value: an ARM resource id, whose distinguishing
// part is at its end, as its name and resource group ("Web-Prod-01 (RG-WEB-PROD)"; a child
// resource "vmss/3 (RG)"); the whole id is only in the portal link. Other values as they are.
func entityText(v string) string {
	m := resourceID.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return v
	}
	var names []string
	for i, part := range strings.Split(m[2], "/") {
		if i%2 == 1 {
			names = append(names, part)
		}
	}
	return strings.Join(names, "/") + " (" + m[1] + ")"
}

// inFooter reports whether a column that no other part of a message shows belongs in its small
// print. Identifiers (a name ending in Id or ID, such as DeviceId) and timestamps other than the
// finding's time (EndTime, PowershellExecEnd) are for machines and stay in the CSV, the store
// and the Log Analytics link; what the hunt computes to tell people (a status, a count, a
// device name) stays. Entity, fingerprint, occurrence and list columns are shown elsewhere.
func inFooter(c hunt.Field) bool {
	return c.Type != "datetime" && !strings.HasSuffix(c.Name, "Id") && !strings.HasSuffix(c.Name, "ID")
}

// displayLists returns the list columns a message shows, in order: a list holding the same
// elements as one before it (the sorted set of commands a hunt fingerprints, after the same
// commands in the order they ran) is left out.
func displayLists(f *hunt.Finding) []hunt.Field {
	var out []hunt.Field
	var seen [][]string
	for _, c := range f.Fields {
		if len(c.List) == 0 {
			continue
		}
		set := slices.Compact(slices.Sorted(slices.Values(c.List)))
		if slices.ContainsFunc(seen, func(s []string) bool { return slices.Equal(s, set) }) {
			continue
		}
		seen = append(seen, set)
		out = append(out, c)
	}
	return out
}
