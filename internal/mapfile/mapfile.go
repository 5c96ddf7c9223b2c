// Package mapfile reads a file by mapping it into memory, and makes the
// fault that reading such a mapping raises, when another process
// truncates the file meanwhile, an error instead of a crash.
//
// config.data is read this way so that a reload does not hold a copy of
// the file in the heap beside the page cache's: the new snapshot is built
// straight from the cached pages.
package mapfile

import (
	"errors"
	"io"
	"os"
	"runtime/debug"
	"unsafe"
)

// ErrTruncated is the error of reading a mapping past the end of a file
// that was truncated after it was mapped.
var ErrTruncated = errors.New("file truncated while being read")

// MinMapSize is the size from which Open maps a file; smaller files are
// read into the heap, where they cost less than a mapping.
const MinMapSize = 1 << 20

// File is a file's content: a read-only mapping, or a copy in the heap.
type File struct {
	// Data is the content. It must not be used after Close, nor be
	// written to.
	Data   []byte
	mapped bool
}

// Open reads the file at path, mapping it if it is at least MinMapSize
// long and the system allows.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if size := fi.Size(); size >= MinMapSize && size == int64(int(size)) && fi.Mode().IsRegular() {
		if data, err := mmap(f, int(size)); err == nil {
			return &File{Data: data, mapped: true}, nil
		}
	}
	data, err := readAll(f, fi.Size())
	if err != nil {
		return nil, err
	}
	return &File{Data: data}, nil
}

// readAll reads f to its end; size is its expected length.
func readAll(f *os.File, size int64) ([]byte, error) {
	data := make([]byte, 0, max(size, 0)+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Close releases the content. Data must not be used afterwards.
func (m *File) Close() error {
	if m == nil {
		return nil
	}
	data, mapped := m.Data, m.mapped
	m.Data, m.mapped = nil, false
	if !mapped {
		return nil
	}
	return munmap(data)
}

// Mapped reports whether the content is a mapping.
func (m *File) Mapped() bool { return m.mapped }

// Guard runs fn, which reads data, on the calling goroutine. A fault
// reading data (the mapped file was truncated) makes Guard return
// ErrTruncated instead of crashing the process; any other panic goes
// on. Goroutines that fn starts must guard themselves.
func Guard(data []byte, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if InData(r, data) {
				err = ErrTruncated
				return
			}
			panic(r)
		}
	}()
	return fn()
}

// InData reports whether the panic value r is a memory fault inside
// data.
func InData(r any, data []byte) bool {
	f, ok := r.(interface{ Addr() uintptr })
	if !ok || len(data) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	a := f.Addr()
	return a >= lo && a < lo+uintptr(len(data))
}
