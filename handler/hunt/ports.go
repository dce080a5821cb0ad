package hunt

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"time"
)

// Source runs a query: Log Analytics in Azure, the embedded KQL engine over a logs folder locally.
// The query already declares its window (see Window.Declare); timespan is the wider range the
// source must make visible to it, as Log Analytics' timespan parameter does.
type Source interface {
	Query(ctx context.Context, query string, timespan Window) (*Result, error)
}

// Streamer is a Source that hands over its answer row by row as it reads it, so that a run keeps
// only what it needs of a large answer (Log Analytics answers up to 500,000 rows). each gets the
// columns and one row, whose slice the source may reuse: each must not keep it. An error from
// each stops the stream, and Stream returns it. partial is set when the service returned rows
// together with an error (see Result.Partial).
type Streamer interface {
	Stream(ctx context.Context, query string, timespan Window, each func(cols []Column, row []any) error) (partial error, err error)
}

// Notifier tells people about findings: Slack in Azure, the terminal locally.
//
// An error wrapping ErrUnavailable means no message can get through now (bad credentials, unknown
// channel, service down): the run stops posting. Any other error concerns that message only.
type Notifier interface {
	// Notify posts one message for a new fingerprint, showing rec.Finding, and returns where it
	// went. rec already counts every occurrence the run found (its summary names them all); more
	// are the occurrences other than rec.Finding's. A notifier with threads tells those afterwards
	// as replies (the Runner calls Repeat); one without threads lists them in this message.
	Notify(ctx context.Context, h *Hunt, rec *Record, more []*Finding) (MessageRef, error)
	// Digest posts one message for many new fingerprints at once (a flood), with every finding
	// (every occurrence of each) attached, and returns where it went: later repeats of each
	// finding thread under it. fs may be more than fits in memory: the notifier goes through
	// fs.All as often as it needs, keeping only what it shows, and fails, posting nothing, when
	// fs.Err reports that the findings could not be read before the message went out.
	Digest(ctx context.Context, h *Hunt, fs FindingSeq) (MessageRef, error)
	// Repeat tells of new occurrences of a notified fingerprint: one thread reply each under
	// rec.Message, then the original message's summary updated from rec (which already counts
	// them). A notifier without threads (a webhook) does nothing and returns nil.
	Repeat(ctx context.Context, h *Hunt, rec *Record, fresh []*Finding) error
	// Alert posts a message about huntwatch itself: failing, recovered, or the daily heartbeat.
	Alert(ctx context.Context, h *Hunt, a Alert) error
}

// FindingSeq is the findings of a digest, possibly more than a run holds in memory at once (the
// Runner keeps a large answer's findings in a temporary file). Len says how many there are; All
// yields them in order, each read afresh, so a consumer may keep any it is given; Err reports a
// read that failed, which ended All early.
type FindingSeq interface {
	Len() int
	All() iter.Seq[*Finding]
	Err() error
}

// FindingList is a FindingSeq held in memory; nil entries are skipped.
type FindingList []*Finding

// Len counts the non-nil findings.
func (l FindingList) Len() int {
	n := 0
	for _, f := range l {
		if f != nil {
			n++
		}
	}
	return n
}

// All yields the non-nil findings in order.
func (l FindingList) All() iter.Seq[*Finding] {
	return func(yield func(*Finding) bool) {
		for _, f := range l {
			if f != nil && !yield(f) {
				return
			}
		}
	}
}

// Err is always nil: nothing is read.
func (FindingList) Err() error { return nil }

// Updater is a Notifier that can replace a message it posted. A new fingerprint whose occurrence
// an earlier message told under another fingerprint (a Run Command first reported without its
// script's commands, which arrived late) then updates that message instead of alerting twice.
type Updater interface {
	// Update tells rec.Finding in place of prior's message (prior.Message) and returns where rec
	// now lives: the same message when it could be edited; a notifier that cannot edit posts a
	// short follow-up naming the earlier alert and returns that.
	Update(ctx context.Context, h *Hunt, prior, rec *Record) (MessageRef, error)
}

// Alert kinds.
const (
	AlertFailing   = "failing"
	AlertRecovered = "recovered"
	AlertHeartbeat = "heartbeat"
	// AlertBroken tells that files of the pack could not be loaded (the others run): its
	// Health.LastError lists them, one "source: error" a line.
	AlertBroken = "broken"
	// AlertTruncated tells that a run's answer had more rows than the Runner's MaxRows
	// (HUNT_MAX_ROWS): Rows of them, of which the first MaxRows were processed, over Window.
	AlertTruncated = "truncated"
)

// Alert is a message about the pipeline's own health.
type Alert struct {
	Kind   string
	Health Health
	// Rows, MaxRows and Window describe an AlertTruncated.
	Rows, MaxRows int
	Window        Window
}

// ErrUnavailable marks a notifier error that no later message of the same run would escape.
var ErrUnavailable = errors.New("notifier unavailable")

// MessageRef locates a posted message, for replies and updates. Where and ID are the notifier's
// own (for Slack, a channel and a message timestamp); Kind says what the message is.
type MessageRef struct {
	Where string      `json:"where,omitempty"`
	ID    string      `json:"id,omitempty"`
	Kind  MessageKind `json:"kind,omitempty"`
}

// MessageKind says what a posted message is.
type MessageKind string

// Kinds of message. A reference without a kind is a KindMessage.
const (
	KindMessage MessageKind = ""       // one finding's message: replies thread under it, updates rebuild it
	KindDigest  MessageKind = "digest" // many findings' message: replies thread under it, it is not rebuilt
)

// LegacyMessageRef reads a reference as records stored it before MessageRef was neutral: a Slack
// channel and timestamp, the timestamp of a digest prefixed with "digest:".
func LegacyMessageRef(channel, ts string) MessageRef {
	if rest, ok := strings.CutPrefix(ts, "digest:"); ok {
		return MessageRef{Where: channel, ID: rest, Kind: KindDigest}
	}
	return MessageRef{Where: channel, ID: ts}
}

// UnmarshalJSON reads a reference in today's form or in the legacy one (see LegacyMessageRef).
func (m *MessageRef) UnmarshalJSON(b []byte) error {
	var v struct {
		Where, ID   string
		Kind        MessageKind
		Channel, TS string // legacy
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Where == "" && v.ID == "" && (v.Channel != "" || v.TS != "") {
		*m = LegacyMessageRef(v.Channel, v.TS)
		return nil
	}
	*m = MessageRef{Where: v.Where, ID: v.ID, Kind: v.Kind}
	return nil
}

// Store keeps what the pipeline must remember between runs: one Record per fingerprint and the
// end of the last successful window, per hunt. Implementations: tablestore (Azure Table Storage)
// and filestore (a local JSON file); both pass the conformance suite in hunt/storetest, as does the in-memory memstore that tests use.
type Store interface {
	// Load returns the hunt's state. A hunt never seen has a zero WindowEnd and no records.
	// To keep the usual run cheap, a store may leave out the Finding and Entities of delivered
	// records and mark them Sparse; Get returns a record whole.
	Load(ctx context.Context, hunt string) (*State, error)
	// Lookup is Load for a run that already knows its answer's fingerprints: the hunt's Status,
	// the records of those fingerprints (a delivered one may be Sparse, as in Load), and, with
	// pending, every pending record of the hunt whole (pending records are delivered even when
	// the answer no longer has them). A fingerprint without a record is absent from Records.
	// Its cost grows with the fingerprints asked, not with the partition, but for the pending
	// records: finding them is a filtered listing, which the service answers by scanning the
	// partition (see Status.Settled for when a run can do without).
	Lookup(ctx context.Context, hunt string, fingerprints []string, pending bool) (*State, error)
	// Get returns one record whole, or nil if there is none.
	Get(ctx context.Context, hunt, fingerprint string) (*Record, error)
	// Put writes records atomically one by one: a record whose Version is empty is inserted only
	// if no record of its fingerprint exists; otherwise it replaces the stored one only if that
	// still has the same Version, and a record with Remove set is deleted on the same condition.
	// Records that lose (someone else wrote first) are returned and left unchanged; the others
	// get their new Version. A Sparse record is refused with an error unless it is to be
	// removed: writing it would lose what Load left out (removing it loses nothing).
	Put(ctx context.Context, hunt string, recs []*Record) (lost []*Record, err error)
	// Prune deletes at most max delivered records of the hunt whose NotifiedAt is before
	// notifiedBefore and whose LastSeen is before seenBefore (see Record.Prunable), each only if
	// it is unchanged since Prune read it (a record another run changed meanwhile stays), and
	// returns how many it deleted. Pending records, and records without a NotifiedAt or a
	// LastSeen, are never pruned. On an error, the count is of the records deleted before it.
	Prune(ctx context.Context, hunt string, notifiedBefore, seenBefore time.Time, max int) (int, error)
	// SaveStatus records the hunt's status: the end of its last successful window and its health.
	SaveStatus(ctx context.Context, hunt string, st Status) error
	// Statuses returns the status of every hunt that has one, by hunt id, in one read: what a
	// tick needs to know which hunts are due.
	Statuses(ctx context.Context) (map[string]Status, error)
}
