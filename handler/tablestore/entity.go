package tablestore

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Table Storage limits, in the service's own accounting (strings count two bytes per UTF-16
// code unit): a string property holds at most 64 KiB, an entity at most 1 MiB and 252 custom
// properties. We stay below them with a margin.
const (
	chunkUnits     = 30_000    // UTF-16 code units per chunk property (limit 32,768)
	maxEntitySize  = 900 << 10 // bytes, as the service counts them (limit 1 MiB)
	maxProperties  = 250       // custom properties (limit 252)
	maxLastError   = 4_000     // runes of Record.LastError kept
	truncated      = "… [truncated]"
	timeLayout     = time.RFC3339Nano
	etagProperty   = "odata.etag"
	int64Type      = "Edm.Int64"
	odataTypeAnnot = "@odata.type"
)

// Property names. A long string property is split into Name0, Name1, ... (see putString).
const (
	pFingerprint     = "Fingerprint"
	pFingerprintB64  = "FingerprintB64" // when the fingerprint is not valid UTF-8
	pState           = "State"
	pFirstSeen       = "FirstSeen"
	pLastSeen        = "LastSeen"
	pOccurrences     = "Occurrences"
	pRecent          = "Recent"
	pNotifiedAt      = "NotifiedAt"
	pSuppressedUntil = "SuppressedUntil"
	pWhere           = "MessageWhere"
	pMessageID       = "MessageID"
	pKind            = "MessageKind"
	pChannel         = "MessageChannel" // legacy: read, never written (see hunt.LegacyMessageRef)
	pTS              = "MessageTS"      // legacy
	pClaimedUntil    = "ClaimedUntil"
	pAttempts        = "Attempts"
	pLastError       = "LastError"
	pFinding         = "Finding"
	pWindowEnd       = "WindowEnd"
	pHealth          = "Health"
	pTold            = "Told" // JSON of hunt.Status.Told
	pSettled         = "Settled"
	pStored          = "Stored"
	pSeenThrough     = "SeenThrough"
	pEntities        = "Entities"
	pHunt            = "Hunt"
)

// entity is one table row as sent to or received from the service.
type entity map[string]any

// recordEntity encodes rec as the entity stored in partition pk. A finding too large for one
// entity is shrunk (long values cut with a visible marker); a record that still does not fit is
// an error.
func recordEntity(pk string, rec *hunt.Record) (entity, error) {
	e := entity{"PartitionKey": pk, "RowKey": key(rec.Fingerprint)}
	if utf8.ValidString(rec.Fingerprint) {
		putString(e, pFingerprint, rec.Fingerprint)
		if rec.Fingerprint == "" {
			e[pFingerprint] = "" // putString omits empty values
		}
	} else {
		putString(e, pFingerprintB64, base64.StdEncoding.EncodeToString([]byte(rec.Fingerprint)))
	}
	putString(e, pState, rec.State)
	putTime(e, pFirstSeen, rec.FirstSeen)
	putTime(e, pLastSeen, rec.LastSeen)
	putInt(e, pOccurrences, rec.Occurrences)
	putTime(e, pNotifiedAt, rec.NotifiedAt)
	putTime(e, pSeenThrough, rec.SeenThrough)
	putString(e, pWhere, rec.Message.Where)
	putString(e, pMessageID, rec.Message.ID)
	putString(e, pKind, string(rec.Message.Kind))
	putTime(e, pClaimedUntil, rec.ClaimedUntil)
	putInt(e, pAttempts, rec.Attempts)
	putString(e, pLastError, clipRunes(rec.LastError, maxLastError))
	if len(rec.Entities) > 0 {
		b, err := json.Marshal(rec.Entities)
		if err != nil {
			return nil, err
		}
		putString(e, pEntities, string(b))
	}

	recent := rec.Recent
	for {
		b, err := json.Marshal(recent)
		if err != nil {
			return nil, err
		}
		base := e.clone()
		if len(recent) > 0 {
			putString(base, pRecent, string(b))
		}
		if rec.Finding == nil {
			if base.size() <= maxEntitySize && base.properties() <= maxProperties {
				return base, nil
			}
		} else {
			budget := maxEntitySize - base.size()
			props := maxProperties - base.properties()
			if js, ok := shrinkFinding(rec.Finding, budget, props); ok {
				putString(base, pFinding, js)
				return base, nil
			}
		}
		// Even an empty finding does not fit: drop the oldest occurrence ids.
		if len(recent) == 0 {
			return nil, fmt.Errorf("record %.80q does not fit in one table entity", rec.Fingerprint)
		}
		recent = recent[len(recent)/2:]
		if len(recent) == 1 {
			recent = nil
		}
	}
}

// windowEntity is the row holding the hunt's status: the end of its last successful window
// and its health.
func windowEntity(pk, huntID string, st hunt.Status) (entity, error) {
	e := entity{"PartitionKey": pk, "RowKey": windowRowKey}
	putString(e, pHunt, clipRunes(huntID, chunkUnits/2))
	putTime(e, pWindowEnd, st.WindowEnd)
	putTime(e, pSuppressedUntil, st.SuppressedUntil)
	st.Health.LastError = clipRunes(st.Health.LastError, maxLastError)
	b, err := json.Marshal(st.Health)
	if err != nil {
		return nil, err
	}
	putString(e, pHealth, string(b))
	if st.Settled {
		e[pSettled] = true
	}
	putInt(e, pStored, st.Stored)
	if len(st.Told) > 0 {
		if b, err = json.Marshal(st.Told); err != nil {
			return nil, err
		}
		putString(e, pTold, string(b))
	}
	return e, nil
}

// decodeStatus reads the window row.
func decodeStatus(e entity) (hunt.Status, error) {
	var st hunt.Status
	var err error
	if st.WindowEnd, err = e.getTime(pWindowEnd); err != nil {
		return st, err
	}
	if st.SuppressedUntil, err = e.getTime(pSuppressedUntil); err != nil {
		return st, err
	}
	if s, ok := e.getString(pHealth); ok {
		if err = json.Unmarshal([]byte(s), &st.Health); err != nil {
			return st, err
		}
	}
	st.Settled, _ = e[pSettled].(bool)
	if st.Stored, err = e.getInt(pStored); err != nil {
		return st, err
	}
	if s, ok := e.getString(pTold); ok {
		err = json.Unmarshal([]byte(s), &st.Told)
	}
	return st, err
}

// decodeRecord reads a record entity; the Version is its ETag.
func decodeRecord(e entity) (*hunt.Record, error) {
	rec := &hunt.Record{}
	if b64, ok := e.getString(pFingerprintB64); ok {
		fp, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pFingerprintB64, err)
		}
		rec.Fingerprint = string(fp)
	} else if fp, ok := e.getString(pFingerprint); ok {
		rec.Fingerprint = fp
	} else {
		return nil, errors.New("no fingerprint")
	}
	rec.State, _ = e.getString(pState)
	var errs []error
	t := func(name string) time.Time {
		v, err := e.getTime(name)
		errs = append(errs, err)
		return v
	}
	n := func(name string) int {
		v, err := e.getInt(name)
		errs = append(errs, err)
		return v
	}
	rec.FirstSeen = t(pFirstSeen)
	rec.LastSeen = t(pLastSeen)
	rec.NotifiedAt = t(pNotifiedAt)
	rec.SeenThrough = t(pSeenThrough)
	rec.ClaimedUntil = t(pClaimedUntil)
	rec.Occurrences = n(pOccurrences)
	rec.Attempts = n(pAttempts)
	rec.Message.Where, _ = e.getString(pWhere)
	rec.Message.ID, _ = e.getString(pMessageID)
	if kind, _ := e.getString(pKind); kind != "" {
		rec.Message.Kind = hunt.MessageKind(kind)
	}
	if rec.Message == (hunt.MessageRef{}) {
		channel, _ := e.getString(pChannel)
		ts, _ := e.getString(pTS)
		rec.Message = hunt.LegacyMessageRef(channel, ts)
	}
	rec.LastError, _ = e.getString(pLastError)
	if s, ok := e.getString(pRecent); ok {
		errs = append(errs, json.Unmarshal([]byte(s), &rec.Recent))
	}
	if s, ok := e.getString(pEntities); ok {
		errs = append(errs, json.Unmarshal([]byte(s), &rec.Entities))
	}
	if s, ok := e.getString(pFinding); ok {
		rec.Finding = &hunt.Finding{}
		errs = append(errs, json.Unmarshal([]byte(s), rec.Finding))
		rec.Finding.Time = rec.Finding.Time.UTC()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rec.Version, _ = e[etagProperty].(string)
	return rec, nil
}

func (e entity) clone() entity {
	c := make(entity, len(e)+8)
	for k, v := range e {
		c[k] = v
	}
	return c
}

// putString sets a string property, omitting empty ones. A value longer than one chunk is
// split into name0, name1, ... on rune boundaries.
func putString(e entity, name, s string) {
	if s == "" {
		return
	}
	chunks := chunk(s, chunkUnits)
	if len(chunks) == 1 {
		e[name] = s
		return
	}
	for i, c := range chunks {
		e[name+strconv.Itoa(i)] = c
	}
}

// getString reads a property written by putString.
func (e entity) getString(name string) (string, bool) {
	if s, ok := e[name].(string); ok {
		return s, true
	}
	var b strings.Builder
	for i := 0; ; i++ {
		s, ok := e[name+strconv.Itoa(i)].(string)
		if !ok {
			return b.String(), i > 0
		}
		b.WriteString(s)
	}
}

func putTime(e entity, name string, t time.Time) {
	if !t.IsZero() {
		// A string keeps nanoseconds; Edm.DateTime would round to 100 ns.
		e[name] = t.UTC().Format(timeLayout)
	}
}

func (e entity) getTime(name string) (time.Time, error) {
	s, ok := e[name].(string)
	if !ok || s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	return t.UTC(), nil
}

func putInt(e entity, name string, n int) {
	if n != 0 {
		e[name] = strconv.FormatInt(int64(n), 10)
		e[name+odataTypeAnnot] = int64Type
	}
}

func (e entity) getInt(name string) (int, error) {
	switch v := e[name].(type) {
	case nil:
		return 0, nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return int(n), nil
	case float64:
		return int(v), nil
	case json.Number:
		n, err := v.Int64()
		return int(n), err
	default:
		return 0, fmt.Errorf("%s: unexpected %T", name, v)
	}
}

// size is the entity's size as Table Storage counts it: 4 bytes, plus the keys at two bytes a
// UTF-16 code unit, plus for each property 8 bytes, its name, and its value (a string 4 + 2 a
// code unit; an Int64 8 bytes).
func (e entity) size() int {
	n := 4
	for k, v := range e {
		switch {
		case k == "PartitionKey" || k == "RowKey":
			n += 2 * utf16Len(v.(string))
		case strings.HasSuffix(k, odataTypeAnnot) || k == etagProperty || strings.HasPrefix(k, "odata."):
		case e[k+odataTypeAnnot] == int64Type:
			n += 8 + 2*utf16Len(k) + 8
		default:
			s, _ := v.(string)
			n += 8 + 2*utf16Len(k) + 4 + 2*utf16Len(s)
		}
	}
	return n
}

// properties counts the entity's custom properties.
func (e entity) properties() int {
	n := 0
	for k := range e {
		if k != "PartitionKey" && k != "RowKey" && !strings.HasSuffix(k, odataTypeAnnot) && !strings.HasPrefix(k, "odata.") {
			n++
		}
	}
	return n
}

// chunk splits s into pieces of at most units UTF-16 code units, never inside a rune.
func chunk(s string, units int) []string {
	var out []string
	for len(s) > 0 {
		n, i := 0, 0
		for i < len(s) {
			r, w := utf8.DecodeRuneInString(s[i:])
			u := utf16.RuneLen(r)
			if u < 0 {
				u = 1 // invalid UTF-8 byte: sent as U+FFFD
			}
			if n+u > units {
				break
			}
			n += u
			i += w
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // ranging a string never yields a surrogate, so never -1
	}
	return n
}

// clipRunes cuts s after max runes, marking the cut.
func clipRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	i, n := 0, 0
	for i < len(s) && n < max {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
		n++
	}
	return s[:i] + truncated
}

// shrinkFinding encodes f as JSON that fits in budget bytes (service accounting, chunk
// properties included) and at most props properties. If the full finding does not fit, field
// texts and lists are cut to the largest common length that fits, with a visible marker; if
// even empty values do not fit, trailing fields are dropped behind a marker field.
func shrinkFinding(f *hunt.Finding, budget, props int) (string, bool) {
	fits := func(g *hunt.Finding) (string, bool) {
		b, err := json.Marshal(g)
		if err != nil {
			return "", false
		}
		js := string(b)
		e := entity{}
		putString(e, pFinding, js)
		return js, e.size()-4 <= budget && e.properties() <= props
	}
	if js, ok := fits(f); ok {
		return js, true
	}
	longest := 0
	for _, fl := range f.Fields {
		longest = max(longest, len(fl.Text), listLen(fl.List))
	}
	// The longest cut of every value that fits (f itself, uncut, does not).
	if c := sort.Search(longest, func(c int) bool { _, ok := fits(cutFinding(f, c, len(f.Fields))); return !ok }); c > 0 {
		return fits(cutFinding(f, c-1, len(f.Fields)))
	}
	// Values cut to nothing still do not fit: keep fewer fields.
	if n := sort.Search(len(f.Fields), func(n int) bool { _, ok := fits(cutFinding(f, 0, n)); return !ok }); n > 0 {
		return fits(cutFinding(f, 0, n-1))
	}
	return "", false
}

func listLen(l []string) int {
	n := 0
	for _, s := range l {
		n += len(s)
	}
	return n
}

// cutFinding returns a copy of f with its first nfields fields, each Text and List cut to at
// most limit bytes (plus a marker).
func cutFinding(f *hunt.Finding, limit, nfields int) *hunt.Finding {
	g := *f
	g.Fields = make([]hunt.Field, 0, nfields+1)
	for _, fl := range f.Fields[:nfields] {
		fl.Text = cutBytes(fl.Text, limit)
		if listLen(fl.List) > limit {
			var list []string
			left := limit
			for _, s := range fl.List {
				if len(s) > left {
					if left > 0 {
						list = append(list, cutBytes(s, left))
					}
					break
				}
				list = append(list, s)
				left -= len(s)
			}
			fl.List = append(list, fmt.Sprintf("%s (%d elements in all)", truncated, len(fl.List)))
		}
		g.Fields = append(g.Fields, fl)
	}
	if nfields < len(f.Fields) {
		g.Fields = append(g.Fields, hunt.Field{Name: "…", Text: fmt.Sprintf("%s (%d more fields)", truncated, len(f.Fields)-nfields)})
	}
	return &g
}

// cutBytes cuts s to at most limit bytes on a rune boundary, marking the cut.
func cutBytes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + truncated
}
