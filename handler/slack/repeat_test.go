package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/huntwatch/huntwatch/handler/hunt"
	"github.com/huntwatch/huntwatch/handler/internal/fakeslack"
)

// notified posts a finding and returns its record as the Runner keeps it once two more
// occurrences were counted, with those occurrences.
func notified(t *testing.T, s *setup) (*hunt.Record, []*hunt.Finding) {
	t.Helper()
	h, fs := runCommandHunt(), manyFindings(3)
	ref, err := s.n.Notify(context.Background(), h, &hunt.Record{Finding: fs[0]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &hunt.Record{
		Fingerprint: fs[0].Fingerprint, State: hunt.Delivered, Occurrences: 3, Message: ref, Finding: fs[0],
		FirstSeen: fs[0].Time, LastSeen: fs[2].Time,
		Entities: map[string][]string{
			"Host":    {"vm-web-01", "vm-web-02", "vm-db-01"},
			"Account": testCallers,
			"IP":      {"10.0.0.0", "10.0.0.1", "10.0.0.2"},
		},
	}
	return rec, fs[1:]
}

// TestRepeat: each new occurrence is one reply in the original message's thread, then the
// original message is updated once with its summary line; every post is paced.
func TestRepeat(t *testing.T) {
	s := newSetup(t, false, fixedClock)
	rec, fresh := notified(t, s)
	if err := s.n.Repeat(context.Background(), runCommandHunt(), rec, fresh); err != nil {
		t.Fatal(err)
	}
	msgs := s.fs.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want the original and 2 replies", len(msgs))
	}
	parent := msgs[0]
	for i, reply := range msgs[1:] {
		if reply.ThreadTS != parent.TS || reply.Channel != parent.Channel {
			t.Errorf("reply %d in %s thread %q, want thread %q", i, reply.Channel, reply.ThreadTS, parent.TS)
		}
		f := fresh[i]
		for _, want := range []string{"New occurrence", f.Value("VirtualMachineName"), f.Value("Caller"), f.Value("CallerIpAddress"), f.Occurrence, "<!date^"} {
			if !strings.Contains(blockTexts(t, reply.Blocks), want) {
				t.Errorf("reply %d lacks %q: %s", i, want, reply.Blocks)
			}
		}
	}
	if parent.Updates != 1 {
		t.Errorf("original updated %d times, want 1", parent.Updates)
	}
	blocks := blockTexts(t, parent.Blocks)
	for _, want := range []string{
		"Seen *3* times · hosts: `vm-web-01`, `vm-web-02`, `vm-db-01` · accounts: `alice.admin@contoso.com`",
		"IPs: `10.0.0.0`", "last seen <!date^", "PowerShell commands",
	} {
		if !strings.Contains(blocks, want) {
			t.Errorf("updated original lacks %q:\n%s", want, blocks)
		}
	}
	want := BuildWith(runCommandHunt(), rec.Finding, BuildOptions{Record: rec})
	if parent.Text != want.Text {
		t.Errorf("updated text %q, want %q", parent.Text, want.Text)
	}
	if code, detail := fakeslack.Check(parent.Blocks); code != "" {
		t.Errorf("updated original over the limits: %s %s", code, detail)
	}
	var methods []string
	for _, c := range s.fs.Calls() {
		methods = append(methods, c.Method)
	}
	if got := strings.Join(methods, " "); got != "chat.postMessage chat.postMessage chat.postMessage chat.update" {
		t.Errorf("calls %s", got)
	}
	if w := s.w.got(); len(w) != 3 || w[0] != time.Second || w[2] != time.Second {
		t.Errorf("waited %v, want MinInterval before each reply and the update", w)
	}
}

func TestRepeatWebhook(t *testing.T) {
	s := newSetup(t, true, nil)
	rec := &hunt.Record{Fingerprint: "x", Occurrences: 2, Message: hunt.MessageRef{Where: "webhook"}, Finding: manyFindings(1)[0]}
	if err := s.n.Repeat(context.Background(), runCommandHunt(), rec, manyFindings(2)); err != nil {
		t.Fatal(err)
	}
	if c := s.fs.Calls(); len(c) != 0 {
		t.Errorf("calls %+v, want none", c)
	}
}

// TestRepeatWithoutUpdate: replies only, when the original cannot or must not be rebuilt.
func TestRepeatWithoutUpdate(t *testing.T) {
	for _, test := range []struct {
		name     string
		edit     func(*hunt.Record)
		threaded bool
		log      string
	}{
		{"no finding kept", func(r *hunt.Record) { r.Finding = nil }, true, "no finding kept"},
		{"under a digest", func(r *hunt.Record) { r.Message.Kind = hunt.KindDigest }, true, ""},
		{"no ts", func(r *hunt.Record) { r.Message.ID = "" }, false, ""},
		{"printer ref", func(r *hunt.Record) { r.Message = hunt.MessageRef{Where: "stdout", ID: "4"} }, false, ""},
		{"original deleted", func(r *hunt.Record) { r.Message.ID = "1699999999.000100" }, false, "is gone"},
	} {
		t.Run(test.name, func(t *testing.T) {
			s := newSetup(t, false, nil)
			rec, fresh := notified(t, s)
			parentTS := rec.Message.ID
			test.edit(rec)
			if err := s.n.Repeat(context.Background(), runCommandHunt(), rec, fresh); err != nil {
				t.Fatal(err)
			}
			msgs := s.fs.Messages()
			if len(msgs) != 3 {
				t.Fatalf("%d messages, want the original and 2 replies", len(msgs))
			}
			for _, m := range msgs[1:] {
				if test.threaded && m.ThreadTS != parentTS || !test.threaded && m.ThreadTS != "" {
					t.Errorf("reply thread %q (threaded: %v)", m.ThreadTS, test.threaded)
				}
			}
			if msgs[0].Updates != 0 {
				t.Errorf("original updated")
			}
			for _, c := range s.fs.Calls() {
				if c.Method == "chat.update" {
					t.Errorf("chat.update called")
				}
			}
			if test.log != "" && !strings.Contains(s.logs.String(), test.log) {
				t.Errorf("log lacks %q:\n%s", test.log, s.logs)
			}
		})
	}
}

func TestRepeatErrors(t *testing.T) {
	s := newSetup(t, false, nil)
	rec, fresh := notified(t, s)
	s.fs.ErrorNext(1, "token_revoked")
	err := s.n.Repeat(context.Background(), runCommandHunt(), rec, fresh)
	if !errors.Is(err, hunt.ErrUnavailable) {
		t.Errorf("got %v, want ErrUnavailable", err)
	}
	var se *Error
	if !errors.As(err, &se) || se.Code != "token_revoked" {
		t.Errorf("got %v, want an *Error with token_revoked", err)
	}

	// A failed update is logged, not returned: the replies told the news.
	s = newSetup(t, false, nil)
	rec, fresh = notified(t, s)
	s.fs.ErrorNextOn("chat.update", 1, "cant_update_message")
	if err := s.n.Repeat(context.Background(), runCommandHunt(), rec, fresh); err != nil {
		t.Errorf("Repeat: %v, want nil after the replies", err)
	}
	if len(s.fs.Messages()) != 3 || !strings.Contains(s.logs.String(), "could not update") {
		t.Errorf("%d messages; log:\n%s", len(s.fs.Messages()), s.logs)
	}

	// A reply whose blocks are refused goes as text.
	s = newSetup(t, false, nil)
	rec, fresh = notified(t, s)
	s.fs.RefuseIf("invalid_blocks", func(m fakeslack.Message) bool { return m.ThreadTS != "" && m.Blocks != nil })
	if err := s.n.Repeat(context.Background(), runCommandHunt(), rec, fresh[:1]); err != nil {
		t.Fatal(err)
	}
	if msgs := s.fs.Messages(); len(msgs) != 2 || msgs[1].Blocks != nil || !strings.Contains(msgs[1].Text, "New occurrence") {
		t.Errorf("messages %+v", msgs)
	}
}

func TestBuildRepeatHostile(t *testing.T) {
	for _, test := range hostile {
		t.Run(test.name, func(t *testing.T) {
			h, f := everywhere(test.in)
			checkMessage(t, BuildRepeat(h, f))
			rec := &hunt.Record{Occurrences: 2, LastSeen: testTime, Entities: map[string][]string{
				test.in: {test.in, test.in + "2"}, "Host": {test.in}, "": {test.in}}}
			checkMessage(t, BuildWith(h, f, BuildOptions{Record: rec}))
		})
	}
	checkMessage(t, BuildRepeat(nil, nil))
}

func TestSummary(t *testing.T) {
	h := runCommandHunt()
	vals := repeat(hunt.MaxEntityValues, func(i int) string { return "vm-" + string(rune('a'+i)) })
	for _, test := range []struct {
		rec  hunt.Record
		want string
	}{
		{hunt.Record{Occurrences: 1}, ":repeat: Seen once"},
		{hunt.Record{Occurrences: 1234, Entities: map[string][]string{"Host": vals, "Process": {"x"}, "Account": {"a*b"}}},
			":repeat: Seen *1,234* times · hosts: `vm-a`, `vm-b`, `vm-c`, `vm-d`, `vm-e`, +15 more · accounts: `a*b` · processes: `x`"},
		{hunt.Record{Occurrences: 2, LastSeen: testTime, Entities: map[string][]string{"IP": {"1.2.3.4"}, "Zeta": {"z"}, "Alpha": {"_a_"}}},
			":repeat: Seen *2* times · IPs: `1.2.3.4` · Alpha: `_a_` · Zeta: `z` · last seen <!date^1741944413^{date_short_pretty} {time}|2025-03-14 09:26 UTC>"},
	} {
		if got := Summary(h, &test.rec); got != test.want {
			t.Errorf("Summary = %q\nwant      %q", got, test.want)
		}
	}
}
