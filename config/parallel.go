package config

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/goconfd/goconfd/internal/mapfile"
	"github.com/goconfd/goconfd/internal/tjson"
)

// Making leaves in parallel.
//
// The leaves of a load are independent of each other, so when many are
// new (the first load, or a config rewritten throughout) they are made
// ahead by one worker per CPU. Which type each leaf is read as is
// guessed from the skeleton before the walk (a map's element type, a
// record field's type); the walk then finds them made, or makes what
// the guess missed. A leaf that fails is left to the walk, which reports
// the error where the sequential reading would.

// leafJob is a container to be made into a leaf ahead of the walk.
type leafJob struct {
	t    *schemaType
	text string
	n    uint32 // its Raw number
}

// minParallelLeaves is the number of new leaves below which making them
// ahead is not worth starting workers.
const minParallelLeaves = 256

// guessLeaves lists the Raw containers of the lazily parsed document
// raw with the type the walk will likely read each as.
func guessLeaves(raw *tjson.Value) []leafJob {
	n := 0
	for i := range objMembers(raw) {
		n += len(raw.Obj[i].Val.Obj)
	}
	jobs := make([]leafJob, 0, n)
	for i := range objMembers(raw) {
		m := &raw.Obj[i]
		fi, ok := configSchema.index[m.Key]
		if !ok || fi < 0 || m.Val.Kind != tjson.Object {
			continue
		}
		ft := configSchema.fields[fi].typ
		for j := range m.Val.Obj {
			mm := &m.Val.Obj[j]
			if mm.Val.Kind != tjson.Raw {
				continue
			}
			switch ft.kind {
			case kMap:
				jobs = append(jobs, leafJob{ft.elem, mm.Val.Str, mm.Val.Aux})
			case kObject:
				if fj, ok := ft.index[mm.Key]; ok && fj >= 0 {
					jobs = append(jobs, leafJob{ft.fields[fj].typ, mm.Val.Str, mm.Val.Aux})
				}
			}
		}
	}
	return jobs
}

// prepare finds the leaves of jobs that the last load had, and makes the
// others, in parallel when there are many. It returns them by Raw
// number.
func (ld *Loader) prepare(lm *leafMaker, jobs []leafJob) ([]preLeaf, error) {
	pre := make([]preLeaf, len(lm.raw))
	todo := make([]leafJob, 0, len(jobs))
	for _, j := range jobs {
		if l := ld.reusable(j.t, lm.raw[j.n]); l != nil {
			pre[j.n] = preLeaf{l: l}
			continue
		}
		todo = append(todo, j)
	}
	workers := runtime.GOMAXPROCS(0)
	if len(todo) < minParallelLeaves || workers < 2 {
		// The walk makes them.
		return pre, nil
	}
	// Workers take batches of jobs in turn; each yields after a batch,
	// so that the query path gets a CPU at once when it needs one.
	const batch = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	var faulted atomic.Bool
	for range workers {
		wg.Go(func() {
			w := &leafMaker{ld: ld}
			err := mapfile.Guard(ld.data, func() error {
				for !faulted.Load() {
					start := int(next.Add(batch)) - batch
					if start >= len(todo) {
						return nil
					}
					for _, j := range todo[start:min(start+batch, len(todo))] {
						l, err := w.makeAhead(j.t, j.text, lm.raw[j.n])
						if err != nil {
							return err
						}
						if l != nil {
							pre[j.n] = preLeaf{l: l, fresh: true}
						}
					}
					runtime.Gosched()
				}
				return nil
			})
			if err != nil {
				faulted.Store(true)
			}
		})
	}
	wg.Wait()
	if faulted.Load() {
		return nil, ErrDataChanged
	}
	if fresh := ld.freshBytes(todo); fresh >= collectAfter {
		// Making leaves leaves garbage (the trees they were read into,
		// dropped) about half the size of what was made, on top of the
		// served snapshot and the new leaves. The collector would let it
		// grow to the size of the live heap (two snapshots' worth here)
		// before collecting it; collected now, it does not add to the
		// peak that the rest of the load reaches. Loads that reuse most
		// leaves (the common case) make little garbage and skip this.
		runtime.GC()
	}
	return pre, nil
}

// collectAfter is the amount of text made into new leaves from which a
// load collects the garbage of making them.
const collectAfter = 4 << 20

// freshBytes is the length of the texts of jobs.
func (ld *Loader) freshBytes(jobs []leafJob) int {
	n := 0
	for _, j := range jobs {
		n += len(j.text)
	}
	return n
}
