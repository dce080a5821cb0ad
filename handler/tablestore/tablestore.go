// Package tablestore keeps the hunt pipeline's memory (hunt.Store) in Azure Table Storage.
//
// How it fits: main builds a Store from settings (a connection string for Azurite or a
// storage account, or an endpoint with the Function's managed identity) and hands it to the
// hunt pipeline, which loads a hunt's state at the start of a run, claims and records
// fingerprints with Put, and advances the window with SaveStatus.
//
// Layout: one partition per hunt (PartitionKey = the encoded hunt id), one row per fingerprint
// (RowKey = the encoded fingerprint, see key), and one row "~window" holding the end of the
// last successful window. Load lists the partition twice, one request per 1,000 rows: every row
// without its bulky properties, then the pending rows whole. Lookup reads the same way only the
// rows asked for (a point query each) and the pending rows, so a run of a small answer does not
// read a long history. Prune lists the delivered rows past its bounds and deletes them as Put does.
// The row's ETag is the record's Version. Put writes in entity group transactions of up to
// 100 operations, several at once (Options.Parallel; one at a time against Azurite), and reads
// the new ETags from the transaction's own response.
//
// It passes the conformance suite of every hunt.Store, hunt/storetest.
package tablestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/huntwatch/huntwatch/handler/hunt"
)

// Options tune the client. The zero value is fine.
type Options struct {
	// Transport sends requests; nil means azcore's default HTTP client.
	Transport policy.Transporter
	// Retry configures azcore's retries; the zero value means its defaults (3 retries of
	// throttling, 5xx and transport errors).
	Retry policy.RetryOptions
	// Timeout bounds every outbound call (one page, one transaction, one entity operation),
	// retries included. Zero means DefaultTimeout.
	Timeout time.Duration
	// Parallel is how many transactions of one Put run at once. Zero means DefaultParallel, or 1
	// for Azurite (a connection string of its development account), which keeps one transaction's
	// state for the whole service: a second transaction while one runs fails ("Transaction
	// Overlap!") and, rolled back, could undo the other's writes.
	Parallel int
}

// DefaultParallel is Options.Parallel when unset, for Azure Table Storage. Transactions on one
// partition may run concurrently: every operation is conditional, so the service decides each race.
const DefaultParallel = 8

// DefaultTimeout bounds each outbound call when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Service limits we enforce ourselves (neither aztables nor Azurite does).
const (
	maxBatchOps   = 100     // operations in one entity group transaction
	maxBatchBytes = 3 << 20 // request payload of one transaction (limit 4 MiB)
	opOverhead    = 1 << 10 // per-operation multipart headers, a generous estimate
	component     = "tablestore"
)

// Store is a hunt.Store over one table. It is safe for concurrent use.
type Store struct {
	log      *slog.Logger
	client   *aztables.Client
	table    string
	endpoint string   // for messages: no query string, no credentials
	secrets  []string // never shown in errors
	timeout  time.Duration
	parallel int // transactions of one Put at once

	mu    sync.Mutex
	ready bool // the table exists
}

var _ hunt.Store = (*Store)(nil)

var tableName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{2,62}$`)

// FromConnectionString opens table with a storage connection string (account key or SAS), as
// for Azurite. Neither the connection string nor its key ever appears in an error or a log.
func FromConnectionString(log *slog.Logger, conn, table string, opts *Options) (*Store, error) {
	endpoint, secrets := describeConnectionString(conn)
	s, err := newStore(log, endpoint, table, secrets, opts)
	if err != nil {
		return nil, err
	}
	if (opts == nil || opts.Parallel <= 0) && isEmulator(conn) {
		s.parallel = 1
	}
	svc, err := aztables.NewServiceClientFromConnectionString(conn, s.clientOptions(opts))
	if err != nil {
		return nil, s.fail(err, "connection string")
	}
	s.client = svc.NewClient(table)
	return s, nil
}

// FromEndpoint opens table at a table service endpoint (https://<account>.table.core.windows.net)
// with a token credential such as the Function's managed identity.
func FromEndpoint(log *slog.Logger, endpoint string, cred azcore.TokenCredential, table string, opts *Options) (*Store, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("tablestore: endpoint %q is not an absolute URL", endpoint)
	}
	s, err := newStore(log, u.Scheme+"://"+u.Host+u.Path, table, nil, opts)
	if err != nil {
		return nil, err
	}
	svc, err := aztables.NewServiceClient(endpoint, cred, s.clientOptions(opts))
	if err != nil {
		return nil, s.fail(err, "client")
	}
	s.client = svc.NewClient(table)
	return s, nil
}

func newStore(log *slog.Logger, endpoint, table string, secrets []string, opts *Options) (*Store, error) {
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("tablestore: table name %q is invalid: 3-63 letters and digits, starting with a letter", table)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		log:      log.With("component", component, "table", table, "endpoint", endpoint),
		table:    table,
		endpoint: endpoint,
		secrets:  secrets,
		timeout:  DefaultTimeout,
		parallel: DefaultParallel,
	}
	if opts != nil && opts.Timeout > 0 {
		s.timeout = opts.Timeout
	}
	if opts != nil && opts.Parallel > 0 {
		s.parallel = opts.Parallel
	}
	return s, nil
}

func (s *Store) clientOptions(opts *Options) *aztables.ClientOptions {
	co := &aztables.ClientOptions{}
	co.PerCallPolicies = []policy.Policy{selectPolicy{}}
	if opts != nil {
		co.Transport = opts.Transport
		co.Retry = opts.Retry
	}
	return co
}

// Open creates the table if it does not exist. Load, Put and SaveStatus call it themselves;
// call it early to fail fast on bad settings.
func (s *Store) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	_, err := s.client.CreateTable(cctx, nil)
	if err != nil && !hasCode(err, aztables.TableAlreadyExists) {
		return s.fail(err, "create table")
	}
	s.ready = true
	return nil
}

// Load lists the hunt's partition: the window row and every record, one request per page,
// decoding each page while the next is fetched.
func (s *Store) Load(ctx context.Context, huntID string) (*hunt.State, error) {
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing if decoding fails
	st := &hunt.State{Records: map[string]*hunt.Record{}}
	// Two listings: every row without the bulky properties (delivered records keep their finding
	// for repeats, and decoding those on every run would dominate its cost), then the pending
	// rows whole, since those are about to be posted.
	pk := key(huntID)
	if err := s.list(ctx, st, huntID, partitionFilter(pk), sparseSelect); err != nil {
		return nil, err
	}
	if err := s.list(ctx, st, huntID, pendingFilter(pk), ""); err != nil {
		return nil, err
	}
	return st, nil
}

// Lookup reads the window row and the rows of fps as Load's sparse listing reads them, and, with
// pending, the pending rows whole as Load lists them, up to lookupParallel requests at once. Each row asked is
// a point query of its own (the entity's GET), which the service answers from its index: the cost
// grows with the rows asked, not with the partition. (A filter could name 14 row keys, but the
// service answers an "or" of row keys with a scan of the partition, as "Design for querying" in
// its documentation says.) Any number of fingerprints works, but since Load reads 1,000 rows a
// request, an answer of more than a few thousand fingerprints is better served by Load.
func (s *Store) Lookup(ctx context.Context, huntID string, fps []string, pending bool) (*hunt.State, error) {
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listings if one fails
	rks := []string{windowRowKey}
	asked := map[string]bool{windowRowKey: true}
	for _, fp := range fps {
		if rk := key(fp); !asked[rk] {
			asked[rk] = true
			rks = append(rks, rk)
		}
	}
	// One state per request: the pending rows (first, as they may take pages), then each row
	// asked. The pending rows whole replace what the sparse reads found of them, as in Load.
	states := make([]*hunt.State, 1+len(rks))
	err := inParallel(len(states), lookupParallel, func(i int) error {
		states[i] = &hunt.State{Records: map[string]*hunt.Record{}}
		if i == 0 {
			if !pending {
				return nil
			}
			return s.list(ctx, states[i], huntID, pendingFilter(key(huntID)), "")
		}
		return s.read(ctx, states[i], huntID, rks[i-1])
	})
	if err != nil {
		return nil, err
	}
	st := &hunt.State{Status: states[1].Status, Records: map[string]*hunt.Record{}}
	for _, part := range append(states[1:], states[0]) {
		maps.Copy(st.Records, part.Records)
	}
	return st, nil
}

// lookupParallel is how many requests of one Lookup run at once (reads, unlike transactions, may
// overlap on Azurite too). Point queries take a few milliseconds each, so more at once would pass
// the 2,000 entities a second Azure targets for one partition and be throttled.
const lookupParallel = 8

// partitionFilter selects the rows of partition pk.
func partitionFilter(pk string) string {
	return "PartitionKey eq " + quote(pk)
}

// pendingFilter selects the pending records of partition pk.
func pendingFilter(pk string) string {
	return partitionFilter(pk) + " and " + pState + " eq " + quote(hunt.Pending)
}

// quote writes s as an OData string literal. Keys need no escaping (see key), but a filter
// must not depend on that.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// sparseSelect names the properties of a sparse listing: all but Finding and Entities (chunked
// properties are named with their first chunks; a row whose values need more is read whole).
var sparseSelect = func() string {
	props := []string{"RowKey", pFingerprint, pFingerprintB64, pState, pFirstSeen, pLastSeen, pOccurrences, pNotifiedAt,
		pWhere, pMessageID, pKind, pChannel, pTS, pClaimedUntil, pAttempts, pLastError, pRecent, pSeenThrough, pWindowEnd, pSuppressedUntil, pHealth, pTold, pSettled, pStored, pHunt}
	for _, p := range []string{pFingerprint, pFingerprintB64, pRecent, pLastError, pHealth, pTold} {
		for i := range sparseChunks {
			props = append(props, p+strconv.Itoa(i))
		}
	}
	return strings.Join(props, ",")
}()

// sparseChunks is how many chunks of a long property a sparse listing reads.
const sparseChunks = 4

// list adds the rows matching filter to st; with sel, only those properties, and then delivered
// records are marked Sparse.
func (s *Store) list(ctx context.Context, st *hunt.State, huntID, filter, sel string) error {
	for page := range s.pages(ctx, filter, sel) {
		if page.err != nil {
			return s.fail(page.err, "load hunt %q", huntID)
		}
		for _, raw := range page.entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return s.fail(err, "load hunt %q: decode entity", huntID)
			}
			if err := s.add(ctx, st, huntID, e, sel != ""); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil { // the listing stopped early: st is not the whole partition
		return s.fail(err, "load hunt %q", huntID)
	}
	return nil
}

// add puts row e in st: the window row's status, or a record, marked Sparse when sparse (e holds
// sparseSelect's properties) and delivered. A row that is not a readable record is skipped.
func (s *Store) add(ctx context.Context, st *hunt.State, huntID string, e entity, sparse bool) error {
	rk, _ := e["RowKey"].(string)
	if rk == windowRowKey {
		status, err := decodeStatus(e)
		if err != nil {
			return s.fail(err, "load hunt %q: status", huntID)
		}
		st.Status = status
		return nil
	}
	rec, err := decodeRecord(e)
	if err == nil && key(rec.Fingerprint) != rk && sparse {
		// A value longer than the sparse listing reads: read the row whole.
		rec, err = s.get(ctx, key(huntID), rk)
	}
	if err == nil && (rec == nil || key(rec.Fingerprint) != rk) {
		err = errors.New("fingerprint does not match the row key")
	}
	if err != nil {
		// Not ours, or damaged: one bad row must not stop the hunt.
		s.log.Warn("skipping unreadable row", "hunt", huntID, "rowKey", rk, "err", err)
		return nil
	}
	if rec.Sparse = sparse && rec.State != hunt.Pending; rec.Sparse {
		rec.Finding, rec.Entities = nil, nil // in case the service sent more than was selected
	}
	st.Records[rec.Fingerprint] = rec
	return nil
}

// read puts row rk of partition pk in st, if there is one, as the sparse listing reads it: a point
// query, the one entity's GET, selecting sparseSelect (see selectPolicy).
func (s *Store) read(ctx context.Context, st *hunt.State, huntID, rk string) error {
	e, err := s.getEntity(context.WithValue(ctx, selectKey{}, sparseSelect), key(huntID), rk)
	if err != nil {
		return s.fail(err, "look up row %s of hunt %q", rk, huntID)
	}
	if e == nil {
		return nil
	}
	return s.add(ctx, st, huntID, e, true)
}

// Get reads one record whole.
func (s *Store) Get(ctx context.Context, huntID, fp string) (*hunt.Record, error) {
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	rec, err := s.get(ctx, key(huntID), key(fp))
	if err != nil {
		return nil, s.fail(err, "get fingerprint %.80q of hunt %q", fp, huntID)
	}
	return rec, nil
}

func (s *Store) get(ctx context.Context, pk, rk string) (*hunt.Record, error) {
	e, err := s.getEntity(ctx, pk, rk)
	if e == nil || err != nil {
		return nil, err
	}
	return decodeRecord(e)
}

// getEntity reads one row, its ETag included; nil if there is none.
func (s *Store) getEntity(ctx context.Context, pk, rk string) (entity, error) {
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	resp, err := s.client.GetEntity(cctx, pk, rk, nil)
	if hasStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e entity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return nil, err
	}
	if _, ok := e[etagProperty]; !ok {
		e[etagProperty] = string(resp.ETag)
	}
	return e, nil
}

// selectKey is the context key of a $select for one entity's GET: aztables' GetEntity has no
// option for it, though the service takes one, so selectPolicy adds it to the request.
type selectKey struct{}

type selectPolicy struct{}

func (selectPolicy) Do(req *policy.Request) (*http.Response, error) {
	if sel, ok := req.Raw().Context().Value(selectKey{}).(string); ok {
		u := req.Raw().URL
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "$select=" + url.QueryEscape(sel)
	}
	return req.Next()
}

type page struct {
	entities [][]byte
	err      error
}

// pages lists the rows that filter selects, one page (1,000 rows) per request, and fetches the
// next page while the caller decodes this one: the listing waits on the service, decoding does
// not, and a page decoded is garbage before the one after next is fetched. A page with an error
// is the last. Cancel ctx to stop early.
func (s *Store) pages(ctx context.Context, filter, sel string) <-chan page {
	out := make(chan page)
	go func() {
		defer close(out)
		opts := &aztables.ListEntitiesOptions{Filter: &filter}
		if sel != "" {
			opts.Select = &sel
		}
		pager := s.client.NewListEntitiesPager(opts)
		for pager.More() {
			cctx, cancel := s.callCtx(ctx)
			p, err := pager.NextPage(cctx)
			cancel()
			select {
			case out <- page{entities: p.Entities, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// Statuses lists every hunt's status row: one query over the table for the rows of RowKey
// windowRowKey, selecting only what a status holds.
func (s *Store) Statuses(ctx context.Context) (map[string]hunt.Status, error) {
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := map[string]hunt.Status{}
	sel := strings.Join([]string{pHunt, pWindowEnd, pSuppressedUntil, pHealth, pHealth + "0", pHealth + "1", pHealth + "2", pHealth + "3"}, ",")
	for page := range s.pages(ctx, "RowKey eq "+quote(windowRowKey), sel) {
		if page.err != nil {
			return nil, s.fail(page.err, "list hunt statuses")
		}
		for _, raw := range page.entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return nil, s.fail(err, "list hunt statuses: decode entity")
			}
			id, _ := e.getString(pHunt)
			st, err := decodeStatus(e)
			if err != nil {
				return nil, s.fail(err, "list hunt statuses: hunt %q", id)
			}
			out[id] = st
		}
	}
	return out, nil
}

// SaveStatus upserts the hunt's status row.
func (s *Store) SaveStatus(ctx context.Context, huntID string, st hunt.Status) error {
	if err := s.Open(ctx); err != nil {
		return err
	}
	e, err := windowEntity(key(huntID), huntID, st)
	if err != nil {
		return err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	if _, err := s.client.UpsertEntity(cctx, body, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}); err != nil {
		return s.fail(err, "save status of hunt %q", huntID)
	}
	return nil
}

type opKind int

const (
	opAdd          opKind = iota // insert if absent
	opReplace                    // replace if the ETag matches
	opDelete                     // delete if the ETag matches
	opDeleteAbsent               // Remove with no Version: wins only if nothing is stored
)

type op struct {
	rec  *hunt.Record
	kind opKind
	pk   string
	rk   string
	body []byte // entity JSON (keys only for deletes)
}

// Put writes recs in transactions of up to 100 operations of the hunt's partition. A
// transaction that fails on a conflict is redone one operation at a time to tell winners from
// losers. A removed record's Version becomes "".
//
// Records are taken maxBatchOps at a time, each group encoded just before it is written, and up
// to Options.Parallel groups are written at once: the service serialises what must be (each operation
// is conditional on its row's ETag), and a flood of new findings neither waits on its
// transactions one after another nor holds more than Parallel transactions' worth of encoded
// entities. When a fingerprint appears more than once in recs, the groups are written in order,
// one at a time, since a later write of a row may depend on an earlier one. Losers are returned in
// input order whatever order the groups finished in.
//
// On an error, no further group is started, the groups in flight finish, and Put returns the
// losers of the groups that completed with the first error (in input order): other groups' records
// may have been written (they have their Version), as a failed transaction's have not.
func (s *Store) Put(ctx context.Context, huntID string, recs []*hunt.Record) (lost []*hunt.Record, err error) {
	if len(recs) == 0 {
		return nil, nil
	}
	for _, rec := range recs {
		if rec.Sparse && !rec.Remove {
			return nil, fmt.Errorf("tablestore: refusing to write sparse record %.80q: it would lose its finding", rec.Fingerprint)
		}
	}
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	pk := key(huntID)
	groups := slices.Collect(slices.Chunk(recs, maxBatchOps))
	parallel := s.parallel
	if len(groups) > 1 && hasRepeats(recs) {
		parallel = 1
	}
	lost, err = s.write(ctx, len(groups), parallel, func(i int) ([]op, error) {
		ops := make([]op, 0, len(groups[i]))
		for _, rec := range groups[i] {
			o, err := newOp(pk, rec)
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		}
		return ops, nil
	})
	if err != nil {
		err = s.fail(err, "put hunt %q", huntID)
	}
	return lost, err
}

// write writes n groups of operations, opsOf(i) being group i's, up to parallel groups at once,
// and returns the losers in group order with the first group's error: no group starts after one
// has failed.
func (s *Store) write(ctx context.Context, n, parallel int, opsOf func(i int) ([]op, error)) (lost []*hunt.Record, err error) {
	lostOf := make([][]*hunt.Record, n)
	err = inParallel(n, parallel, func(i int) error {
		ops, err := opsOf(i)
		if err != nil {
			return err
		}
		lostOf[i], err = s.put(ctx, ops)
		return err
	})
	for i := range n {
		lost = append(lost, lostOf[i]...)
	}
	return lost, err
}

// inParallel calls fn(0) to fn(n-1), up to parallel calls at once, starting them in order (one
// after another when parallel is 1), and returns the error of the first call by index that
// failed. No call starts after one has failed; those in flight finish.
func inParallel(n, parallel int, fn func(i int) error) error {
	errs := make([]error, n)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		next   int
		failed bool
	)
	for range max(1, min(parallel, n)) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := failed || i >= n
				mu.Unlock()
				if stop {
					return
				}
				if errs[i] = fn(i); errs[i] != nil {
					mu.Lock()
					failed = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// hasRepeats tells whether a fingerprint appears twice in recs.
func hasRepeats(recs []*hunt.Record) bool {
	seen := make(map[string]bool, len(recs))
	for _, rec := range recs {
		if seen[rec.Fingerprint] {
			return true
		}
		seen[rec.Fingerprint] = true
	}
	return false
}

// put runs ops batch by batch; it stops at the first error other than a lost conflict.
func (s *Store) put(ctx context.Context, ops []op) (lost []*hunt.Record, err error) {
	for _, b := range batches(ops) {
		l, err := s.runBatch(ctx, b)
		lost = append(lost, l...)
		if err != nil {
			return lost, err
		}
	}
	return lost, nil
}

func newOp(pk string, rec *hunt.Record) (op, error) {
	if rec.Remove {
		return deleteOp(pk, key(rec.Fingerprint), rec)
	}
	o := op{rec: rec, pk: pk, rk: key(rec.Fingerprint), kind: opReplace}
	if rec.Version == "" {
		o.kind = opAdd
	}
	e, err := recordEntity(pk, rec)
	if err != nil {
		return o, err
	}
	o.body, err = json.Marshal(e)
	return o, err
}

// deleteOp deletes row rk of partition pk on the condition of rec.Version (none: only if no
// row is there).
func deleteOp(pk, rk string, rec *hunt.Record) (op, error) {
	o := op{rec: rec, pk: pk, rk: rk, kind: opDelete}
	if rec.Version == "" {
		o.kind = opDeleteAbsent
	}
	var err error
	o.body, err = json.Marshal(entity{"PartitionKey": pk, "RowKey": rk})
	return o, err
}

// batches groups ops, in order, into transactions: at most maxBatchOps operations and
// maxBatchBytes of payload, one partition, no row twice (a transaction may touch a row once).
func batches(ops []op) [][]op {
	var out [][]op
	var cur []op
	size := 0
	rows := map[string]bool{}
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, size = nil, 0
		clear(rows)
	}
	for _, o := range ops {
		n := len(o.body) + opOverhead
		if len(cur) == maxBatchOps || (len(cur) > 0 && size+n > maxBatchBytes) || rows[o.rk] ||
			(len(cur) > 0 && cur[0].pk != o.pk) || o.kind == opDeleteAbsent {
			flush()
		}
		cur = append(cur, o)
		size += n
		rows[o.rk] = true
		if o.kind == opDeleteAbsent {
			flush() // needs a read: never part of a transaction
		}
	}
	flush()
	return out
}

// runBatch writes one batch as a transaction, or alone if it is a single operation.
func (s *Store) runBatch(ctx context.Context, b []op) (lost []*hunt.Record, err error) {
	if len(b) == 1 {
		return s.runEach(ctx, b)
	}
	actions := make([]aztables.TransactionAction, len(b))
	for i, o := range b {
		actions[i] = aztables.TransactionAction{Entity: o.body}
		switch o.kind {
		case opAdd:
			actions[i].ActionType = aztables.TransactionTypeAdd
		case opReplace:
			actions[i].ActionType = aztables.TransactionTypeUpdateReplace
			actions[i].IfMatch = etag(o.rec.Version)
		case opDelete:
			actions[i].ActionType = aztables.TransactionTypeDelete
			actions[i].IfMatch = etag(o.rec.Version)
		}
	}
	var raw *http.Response
	cctx, cancel := s.callCtx(runtime.WithCaptureResponse(ctx, &raw))
	_, err = s.client.SubmitTransaction(cctx, actions, nil)
	cancel()
	if err == nil {
		return nil, s.applyETags(ctx, b, raw)
	}
	conflict, err := classify(err)
	if !conflict {
		return nil, fmt.Errorf("transaction of %d operations: %w", len(b), err)
	}
	s.log.Debug("transaction lost a conflict; writing its operations one by one", "operations", len(b))
	return s.runEach(ctx, b)
}

// applyETags gives the winners of a committed transaction their new Version from the
// transaction's response. Should that not carry ETags, one range query of the batch's rows
// (one request per 1,000 rows) fetches them.
func (s *Store) applyETags(ctx context.Context, b []op, raw *http.Response) error {
	var subs []subResponse
	if raw != nil {
		if body, err := runtime.Payload(raw); err == nil {
			subs, _ = parseBatchResponse(raw.Header, body)
		}
	}
	var missing []op
	for i, o := range b {
		switch {
		case o.kind == opDelete:
			o.rec.Version = ""
		case len(subs) == len(b) && subs[i].ETag != "":
			o.rec.Version = subs[i].ETag
		default:
			missing = append(missing, o)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	s.log.Debug("transaction response without ETags; reading them back", "rows", len(missing))
	return s.fetchETags(ctx, missing)
}

// fetchETags reads the ETags of ops' rows with one range query over their row keys.
func (s *Store) fetchETags(ctx context.Context, ops []op) error {
	lo, hi := ops[0].rk, ops[0].rk
	for _, o := range ops {
		lo, hi = min(lo, o.rk), max(hi, o.rk)
	}
	filter := fmt.Sprintf("%s and RowKey ge %s and RowKey le %s", partitionFilter(ops[0].pk), quote(lo), quote(hi))
	sel := "RowKey"
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Select: &sel})
	want := make(map[string][]*hunt.Record, len(ops))
	for _, o := range ops {
		want[o.rk] = append(want[o.rk], o.rec)
	}
	for pager.More() && len(want) > 0 {
		cctx, cancel := s.callCtx(ctx)
		page, err := pager.NextPage(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("read ETags after a transaction: %w", err)
		}
		for _, raw := range page.Entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			rk, _ := e["RowKey"].(string)
			if recs, ok := want[rk]; ok {
				for _, r := range recs {
					r.Version, _ = e[etagProperty].(string)
				}
				delete(want, rk)
			}
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("read ETags after a transaction: %d rows missing", len(want))
	}
	return nil
}

// runEach writes ops one request each.
func (s *Store) runEach(ctx context.Context, ops []op) (lost []*hunt.Record, err error) {
	for _, o := range ops {
		won, err := s.runOne(ctx, o)
		if err != nil {
			return lost, err
		}
		if !won {
			lost = append(lost, o.rec)
		}
	}
	return lost, nil
}

// runOne writes a single operation; a conflict is a loss, not an error.
func (s *Store) runOne(ctx context.Context, o op) (won bool, err error) {
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	switch o.kind {
	case opAdd:
		var resp aztables.AddEntityResponse
		if resp, err = s.client.AddEntity(cctx, o.body, nil); err == nil {
			o.rec.Version = string(resp.ETag)
		}
	case opReplace:
		var resp aztables.UpdateEntityResponse
		if resp, err = s.client.UpdateEntity(cctx, o.body, &aztables.UpdateEntityOptions{
			UpdateMode: aztables.UpdateModeReplace, IfMatch: etag(o.rec.Version),
		}); err == nil {
			o.rec.Version = string(resp.ETag)
		}
	case opDelete:
		if _, err = s.client.DeleteEntity(cctx, o.pk, o.rk, &aztables.DeleteEntityOptions{IfMatch: etag(o.rec.Version)}); err == nil {
			o.rec.Version = ""
		}
	case opDeleteAbsent:
		_, err = s.client.GetEntity(cctx, o.pk, o.rk, nil)
		if err == nil {
			return false, nil // something is stored: the caller's view is stale
		}
		if hasStatus(err, http.StatusNotFound) {
			return true, nil
		}
	}
	if err == nil {
		return true, nil
	}
	if isConflict(err) {
		return false, nil
	}
	return false, err
}

// classify tells whether a failed transaction lost a conflict (so redoing its operations one by
// one finds the losers) and, if not, returns a readable error. A transaction whose operation
// failed comes back as 202 with the failure inside the multipart body and no error code.
func classify(err error) (conflict bool, _ error) {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return false, err
	}
	if re.StatusCode >= 300 || re.RawResponse == nil {
		return isConflict(err), err
	}
	body, perr := runtime.Payload(re.RawResponse)
	if perr != nil {
		return true, err
	}
	subs, perr := parseBatchResponse(re.RawResponse.Header, body)
	f, ok := failure(subs)
	if perr != nil || !ok {
		return true, err // unreadable: one by one will tell
	}
	if conflictAnswer(f.Status, f.Code) {
		return true, err
	}
	return false, &opError{status: f.Status, code: f.Code, msg: f.Message, err: err}
}

// opError is a transaction operation's failure, read from the batch response.
type opError struct {
	status    int
	code, msg string
	err       error
}

func (e *opError) Error() string {
	return fmt.Sprintf("operation failed: %d %s: %s", e.status, e.code, firstLine(e.msg))
}

func (e *opError) Unwrap() error { return e.err }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// isConflict: someone else wrote first (the row exists, changed, or is gone).
func isConflict(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && conflictAnswer(re.StatusCode, re.ErrorCode)
}

// conflictAnswer tells a lost race from other failures with the same status, such as
// 404 TableNotFound. Without an error code the status decides.
func conflictAnswer(status int, code string) bool {
	if code != "" {
		return slices.Contains([]aztables.TableErrorCode{aztables.EntityAlreadyExists, aztables.UpdateConditionNotSatisfied, aztables.ResourceNotFound}, aztables.TableErrorCode(code))
	}
	return slices.Contains([]int{http.StatusConflict, http.StatusPreconditionFailed, http.StatusNotFound}, status)
}

func hasStatus(err error, status int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}

func hasCode(err error, code aztables.TableErrorCode) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == string(code)
}

func etag(v string) *azcore.ETag {
	e := azcore.ETag(v)
	return &e
}

func (s *Store) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// fail wraps err with the table and endpoint, with any secret masked.
func (s *Store) fail(err error, format string, args ...any) error {
	msg := fmt.Sprintf("tablestore %s at %s: %s: %v", s.table, s.endpoint, fmt.Sprintf(format, args...), err)
	for _, secret := range s.secrets {
		msg = strings.ReplaceAll(msg, secret, "[REDACTED]")
	}
	return &storeError{msg: msg, err: err}
}

type storeError struct {
	msg string
	err error
}

func (e *storeError) Error() string { return e.msg }
func (e *storeError) Unwrap() error { return e.err }

// isEmulator tells a connection string of Azurite (or the older Storage Emulator): its
// development account, or UseDevelopmentStorage=true.
func isEmulator(conn string) bool {
	for _, part := range strings.Split(conn, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case strings.EqualFold(k, "AccountName") && strings.EqualFold(strings.TrimSpace(v), "devstoreaccount1"),
			strings.EqualFold(k, "UseDevelopmentStorage") && strings.EqualFold(strings.TrimSpace(v), "true"):
			return true
		}
	}
	return false
}

// describeConnectionString returns the table endpoint named by conn (for messages: scheme,
// host and path only) and the values that must never be shown.
func describeConnectionString(conn string) (endpoint string, secrets []string) {
	kv := map[string]string{}
	for _, part := range strings.Split(conn, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			kv[k] = v
		}
	}
	for _, k := range []string{"AccountKey", "SharedAccessSignature"} {
		if v := kv[k]; len(v) >= 4 {
			secrets = append(secrets, v, url.QueryEscape(v))
		}
	}
	if strings.TrimSpace(conn) != "" {
		secrets = append(secrets, conn)
	}
	endpoint = kv["TableEndpoint"]
	if endpoint == "" {
		proto, suffix := kv["DefaultEndpointsProtocol"], kv["EndpointSuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		endpoint = fmt.Sprintf("%s://%s.table.%s", proto, kv["AccountName"], suffix)
	}
	if u, err := url.Parse(endpoint); err == nil {
		endpoint = u.Scheme + "://" + u.Host + u.Path
	} else {
		endpoint = "(unparsable endpoint)"
	}
	return endpoint, secrets
}
