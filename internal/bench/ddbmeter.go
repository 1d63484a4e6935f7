package bench

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// ddbMeter is a proxy in front of dynalite that meters what DynamoDB would
// bill for each request the functions make, from the items themselves: for
// a write it reads the item before and after (strongly consistent reads of
// its own, not metered) and computes the write units of the table and of
// each global secondary index by DynamoDB's rules; for a read, the read
// units of what was read.
type ddbMeter struct {
	upstream string
	table    tableDef
	client   *http.Client

	mu    sync.Mutex
	phase string
	ops   []ddbOp
	errs  []string
}

// ddbOp is one metered request.
type ddbOp struct {
	phase string // who made it: the function the bench was invoking
	op    string // PutItem, UpdateItem, GetItem, Query, ...
	what  string // the item: its key prefix ("run", "pause#", ...) or the index queried
	// wru and rru are the table's units; index the write units of each
	// index written, with why (put, delete+put, update, delete).
	wru, rru float64
	index    []indexWrite
	// size is the item's size in bytes (the larger of before and after
	// for a write; the total read for a query).
	size   int
	failed bool // a conditional check failed (still billed)
	// before and after are a write's item (nil when absent).
	before, after item
}

type indexWrite struct {
	index, why string
	wru        float64
	size       int
}

func (o ddbOp) totalWRU() float64 {
	w := o.wru
	for _, ix := range o.index {
		w += ix.wru
	}
	return w
}

func newDDBMeter(upstream string, t tableDef) *ddbMeter {
	return &ddbMeter{upstream: upstream, table: t, client: &http.Client{}}
}

// setPhase names the function whose requests follow.
func (m *ddbMeter) setPhase(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.phase = p
}

// take returns the requests metered since the last take.
func (m *ddbMeter) take() ([]ddbOp, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ops, errs := m.ops, m.errs
	m.ops, m.errs = nil, nil
	return ops, errs
}

// item is an item in DynamoDB's JSON wire form: attribute name to
// {"S": ...}, {"N": ...}, ...
type item map[string]map[string]any

func (m *ddbMeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	var req struct {
		TableName            string
		Key, Item            item
		ConsistentRead       bool
		IndexName            string
		FilterExpression     string
		ProjectionExpression string
		RequestItems         map[string]struct {
			Keys           []item
			ConsistentRead bool
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		m.fail("%s: decode the request: %v", op, err)
	}
	write := op == "PutItem" || op == "UpdateItem" || op == "DeleteItem"
	key := req.Key
	if op == "PutItem" {
		key = item{m.table.key: req.Item[m.table.key]}
	}
	var before item
	if write {
		before = m.get(r, req.TableName, key)
	}
	status, header, out, err := m.forward(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	rec := ddbOp{op: op, what: keyKind(key, m.table.key)}
	ok := status == http.StatusOK
	switch {
	case write:
		after := before
		if ok {
			after = m.get(r, req.TableName, key)
		}
		rec.failed = !ok
		rec.before, rec.after = before, after
		size := max(itemSize(before), itemSize(after))
		if !ok && op == "PutItem" {
			size = max(size, itemSize(req.Item))
		}
		rec.size, rec.wru = size, writeUnits(size)
		if ok {
			rec.index = indexWrites(m.table, before, after)
		}
	case op == "GetItem" && ok:
		var resp struct{ Item item }
		json.Unmarshal(out, &resp)
		full := resp.Item
		if req.ProjectionExpression != "" {
			full = m.get(r, req.TableName, key) // billed on the whole item
		}
		rec.size, rec.rru = itemSize(full), readUnits(itemSize(full), req.ConsistentRead)
	case op == "Query" && ok:
		if req.FilterExpression != "" {
			m.fail("Query with a filter: the bench meters only what is returned")
		}
		var resp struct{ Items []item }
		json.Unmarshal(out, &resp)
		ix, found := m.index(req.IndexName)
		total := 0
		for _, it := range resp.Items {
			if found {
				it = project(it, m.table.key, ix)
			}
			total += itemSize(it)
		}
		rec.what = "index " + req.IndexName
		rec.size, rec.rru = total, readUnits(total, req.ConsistentRead && !found)
	case op == "BatchGetItem" && ok:
		var resp struct{ Responses map[string][]item }
		json.Unmarshal(out, &resp)
		for tab, items := range resp.Responses {
			consistent := req.RequestItems[tab].ConsistentRead
			for _, it := range items {
				rec.size += itemSize(it)
				rec.rru += readUnits(itemSize(it), consistent)
			}
			// A key not found is read too.
			if missing := len(req.RequestItems[tab].Keys) - len(items); missing > 0 {
				rec.rru += float64(missing) * readUnits(0, consistent)
			}
		}
		rec.what = fmt.Sprintf("%d items", len(req.RequestItems[req.TableName].Keys))
	case !ok:
		rec.failed = true
	default:
		m.fail("%s: the bench does not meter this operation", op)
	}
	m.mu.Lock()
	rec.phase = m.phase
	m.ops = append(m.ops, rec)
	m.mu.Unlock()
	for k, vs := range header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(status)
	w.Write(out)
}

func (m *ddbMeter) fail(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errs = append(m.errs, fmt.Sprintf(format, args...))
}

// forward sends the request on to dynalite as it came.
func (m *ddbMeter) forward(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, m.upstream+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out, err
}

// get reads an item with a strongly consistent GetItem of the meter's own,
// with the headers of the request it meters (dynalite checks that a request
// is signed, not the signature).
func (m *ddbMeter) get(r *http.Request, table string, key item) item {
	in, _ := json.Marshal(map[string]any{"TableName": table, "Key": key, "ConsistentRead": true})
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, m.upstream+"/", bytes.NewReader(in))
	if err != nil {
		m.fail("read back: %v", err)
		return nil
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	req.Header.Set("X-Amz-Date", r.Header.Get("X-Amz-Date"))
	resp, err := m.client.Do(req)
	if err != nil {
		m.fail("read back: %v", err)
		return nil
	}
	defer resp.Body.Close()
	var out struct{ Item item }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		m.fail("read back: status %d: %v", resp.StatusCode, err)
		return nil
	}
	return out.Item
}

func (m *ddbMeter) index(name string) (indexDef, bool) {
	for _, ix := range m.table.indexes {
		if ix.name == name {
			return ix, true
		}
	}
	return indexDef{}, false
}

// indexWrites are the writes a table write from before to after makes in
// each global secondary index (DynamoDB's rules): an item enters an index
// when it has the index's keys (a put), leaves it when it loses one (a
// delete), moves when a key changes (a delete and a put), and is updated
// when only a projected attribute changes; an index entry's size is that
// of the table's key, the index's keys and the projected attributes.
func indexWrites(t tableDef, before, after item) []indexWrite {
	var out []indexWrite
	for _, ix := range t.indexes {
		inB, inA := hasKeys(before, ix), hasKeys(after, ix)
		eb, ea := project(before, t.key, ix), project(after, t.key, ix)
		sb, sa := itemSize(eb), itemSize(ea)
		switch {
		case !inB && !inA:
		case !inB:
			out = append(out, indexWrite{ix.name, "put", writeUnits(sa), sa})
		case !inA:
			out = append(out, indexWrite{ix.name, "delete", writeUnits(sb), sb})
		case !sameAttrs(before, after, ix.keys()):
			out = append(out, indexWrite{ix.name, "delete+put", writeUnits(sb) + writeUnits(sa), max(sb, sa)})
		case !reflect.DeepEqual(eb, ea):
			out = append(out, indexWrite{ix.name, "update", writeUnits(max(sb, sa)), max(sb, sa)})
		}
	}
	return out
}

func hasKeys(it item, ix indexDef) bool {
	if it == nil {
		return false
	}
	for _, k := range ix.keys() {
		if _, ok := it[k]; !ok {
			return false
		}
	}
	return true
}

func sameAttrs(a, b item, names []string) bool {
	for _, n := range names {
		if !reflect.DeepEqual(a[n], b[n]) {
			return false
		}
	}
	return true
}

// project is an item's entry in an index: the table's key, the index's
// keys and the attributes the index projects.
func project(it item, tableKey string, ix indexDef) item {
	if it == nil {
		return nil
	}
	if ix.projection == "ALL" {
		return it
	}
	out := item{}
	for n, v := range it {
		if n == tableKey || slices.Contains(ix.keys(), n) || ix.projection == "INCLUDE" && slices.Contains(ix.nonKey, n) {
			out[n] = v
		}
	}
	return out
}

// keyKind names the kind of item a key is: the prefix of a control item's
// id ("pause#", "slots#", "key#"), else "run".
func keyKind(key item, name string) string {
	id, _ := key[name]["S"].(string)
	if i := strings.IndexByte(id, '#'); i > 0 {
		return id[:i+1]
	}
	if id == "" {
		return ""
	}
	return "run"
}

// writeUnits are the write request units of an item (or index entry) of
// size bytes: one per KB, rounded up.
func writeUnits(size int) float64 { return max(1, math.Ceil(float64(size)/1024)) }

// readUnits are the read request units of reading size bytes: one per 4 KB,
// rounded up, half of that when eventually consistent.
func readUnits(size int, consistent bool) float64 {
	u := max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

// itemSize is an item's size as DynamoDB counts it: the UTF-8 bytes of each
// attribute's name and of its value.
func itemSize(it item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize follows DynamoDB's item size rules: strings and binary by
// their bytes, numbers about one byte per two significant digits plus one,
// a list or map 3 bytes plus 1 per element, booleans and null 1.
func valueSize(v map[string]any) int {
	for typ, val := range v {
		switch typ {
		case "S":
			s, _ := val.(string)
			return len(s)
		case "N":
			s, _ := val.(string)
			return numberSize(s)
		case "B":
			s, _ := val.(string)
			b, _ := base64.StdEncoding.DecodeString(s)
			return len(b)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			n := 0
			list, _ := val.([]any)
			for _, e := range list {
				s, _ := e.(string)
				switch typ {
				case "SS":
					n += len(s)
				case "NS":
					n += numberSize(s)
				default:
					b, _ := base64.StdEncoding.DecodeString(s)
					n += len(b)
				}
			}
			return n
		case "L":
			n := 3
			list, _ := val.([]any)
			for _, e := range list {
				em, _ := e.(map[string]any)
				n += 1 + valueSize(em)
			}
			return n
		case "M":
			n := 3
			mm, _ := val.(map[string]any)
			for k, e := range mm {
				em, _ := e.(map[string]any)
				n += 1 + len(k) + valueSize(em)
			}
			return n
		}
	}
	return 0
}

func numberSize(s string) int {
	s = strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	s = strings.Replace(s, ".", "", 1)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(s, "0")
	digits := utf8.RuneCountInString(s)
	if digits == 0 {
		return 1
	}
	return (digits+1)/2 + 1
}
