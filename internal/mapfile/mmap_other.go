//go:build !unix

package mapfile

import (
	"errors"
	"os"
)

func mmap(*os.File, int) ([]byte, error) { return nil, errors.New("no mmap") }

func munmap([]byte) error { return nil }
