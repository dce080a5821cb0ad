package hunt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// memFindings is how many findings of a run stay whole in memory; the others go to a temporary
// file (spill). Most answers are smaller, and never touch the disk.
const memFindings = 1000

// spill keeps a run's findings past the first memFindings in a temporary file, leaving in memory
// only what the plan needs of each: its fingerprint, occurrence and time (a header, whose Fields
// are nil). whole reads a finding back for a message or a record. A spill is one run's; close
// removes the file.
type spill struct {
	n     int // findings seen
	file  *os.File
	w     *bufio.Writer
	off   int64
	buf   []byte
	names map[string]string // column names and types read back, shared by every finding
	err   error             // the file could not be made: findings stay in memory
}

// keep returns f as the run keeps it: whole while few, else written out and returned as a header.
func (s *spill) keep(f Finding) (Finding, error) {
	s.n++
	if s.n <= memFindings || s.err != nil {
		return f, nil
	}
	if s.file == nil {
		if s.file, s.err = os.CreateTemp("", "huntwatch-findings-*"); s.err != nil {
			return f, nil // memory it is, as before there was a spill
		}
		s.w = bufio.NewWriterSize(s.file, 64<<10)
	}
	b := s.buf[:0]
	b = binary.AppendUvarint(b, uint64(len(f.Fields)))
	for _, c := range f.Fields {
		b = appendString(b, c.Name)
		b = appendString(b, c.Type)
		b = appendString(b, c.Text)
		b = binary.AppendUvarint(b, uint64(len(c.List)))
		for _, e := range c.List {
			b = appendString(b, e)
		}
	}
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return f, fmt.Errorf("write findings to %s: %w", s.file.Name(), err)
	}
	f.Fields, f.at, f.size = nil, s.off+1, int32(len(b))
	s.off += int64(len(b))
	return f, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// whole returns f with its Fields: f itself when it is in memory, else a copy read back.
func (s *spill) whole(f *Finding) (*Finding, error) {
	if f == nil || f.at == 0 {
		return f, nil
	}
	if s.w.Buffered() > 0 {
		if err := s.w.Flush(); err != nil {
			return nil, fmt.Errorf("write findings to %s: %w", s.file.Name(), err)
		}
	}
	b := make([]byte, f.size)
	if _, err := s.file.ReadAt(b, f.at-1); err != nil {
		return nil, fmt.Errorf("read findings from %s: %w", s.file.Name(), err)
	}
	out := *f
	out.at, out.size = 0, 0
	fields, err := s.fields(b)
	if err != nil {
		return nil, fmt.Errorf("read findings from %s: %w", s.file.Name(), err)
	}
	out.Fields = fields
	return &out, nil
}

// fields decodes what keep wrote.
func (s *spill) fields(b []byte) ([]Field, error) {
	r := reader{b: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return nil, errCorrupt
	}
	fields := make([]Field, n)
	for i := range fields {
		fields[i] = Field{Name: s.intern(r.string()), Type: s.intern(r.string()), Text: r.string()}
		if k := r.uvarint(); k > 0 && k <= uint64(len(b)) {
			fields[i].List = make([]string, k)
			for j := range fields[i].List {
				fields[i].List[j] = r.string()
			}
		}
	}
	if r.bad || len(r.b) > 0 {
		return nil, errCorrupt
	}
	return fields, nil
}

var errCorrupt = errors.New("corrupt findings record")

func (s *spill) intern(x string) string {
	if v, ok := s.names[x]; ok {
		return v
	}
	if s.names == nil {
		s.names = map[string]string{}
	}
	s.names[x] = x
	return x
}

// reader reads what appendString and binary.AppendUvarint wrote; bad is set on a short read.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// close removes the file.
func (s *spill) close() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
		s.file = nil
	}
}
