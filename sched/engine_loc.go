package sched

import (
	"sync"
	"time"
)

var locCache sync.Map // zone name -> *time.Location

// cachedLocation loads a zone once: LoadLocation reads the zone file on
// every call, too slow for marshalling or scheduling thousands of jobs.
func cachedLocation(name string) (*time.Location, error) {
	if v, ok := locCache.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, err := LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locCache.Store(name, loc)
	return loc, nil
}
