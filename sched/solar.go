package sched

import (
	"math"
	"strconv"
	"time"
)

// Site is a place on Earth, in degrees: latitude north positive, longitude
// east positive (config location).
type Site struct {
	Latitude, Longitude float64
}

// CheckSite returns a bad_request *Error naming field+".latitude" or
// ".longitude" when a coordinate is out of range.
func CheckSite(s Site, field string) error {
	if math.IsNaN(s.Latitude) || s.Latitude < -90 || s.Latitude > 90 {
		return FieldError(field+".latitude", "%v: must be from -90 to 90 degrees", s.Latitude)
	}
	if math.IsNaN(s.Longitude) || s.Longitude < -180 || s.Longitude > 180 {
		return FieldError(field+".longitude", "%v: must be from -180 to 180 degrees", s.Longitude)
	}
	return nil
}

// Solar events.
const (
	SolarSunrise = "sunrise"
	SolarSunset  = "sunset"
	SolarDawn    = "dawn"
	SolarDusk    = "dusk"
	SolarNoon    = "noon"
)

// solarTrigger fires at a solar event of each local date of its zone,
// plus an offset, on the weekdays of its day_of_week. Days on which the
// event does not happen (polar day and night) are skipped.
type solarTrigger struct {
	lat, lon   float64
	zenith     float64 // of the event; 0 for noon
	rising     bool
	offset     time.Duration
	dow        uint8 // weekdays, bit 0 = Monday
	start, end int64 // unix seconds; math.MinInt64 / noEnd: none
	loc        *time.Location
}

// solarEarlyHours: before this hour of a date, the search starts from the
// date before (its event is within 12 hours of its transit, which is
// within a few hours of its local noon in any zone).
const solarEarlyHours = 6

// solarMaxGap is how many days the search for an event may skip: more than
// a polar night is long, so an event is found whenever it happens at all
// (every event does, some day of the year, at any latitude).
const solarMaxGap = 370

func compileSolar(s TriggerSpec, env Env, zone *time.Location) (Trigger, error) {
	t := &solarTrigger{dow: 0x7f, start: math.MinInt64, end: noEnd, loc: zone}
	twilight := zenithCivil
	switch s.Twilight {
	case "", "civil":
	case "nautical":
		twilight = zenithNautical
	case "astronomical":
		twilight = zenithAstronomical
	default:
		return nil, FieldError("trigger.twilight", "%q: want civil, nautical or astronomical", s.Twilight)
	}
	switch s.Event {
	case SolarSunrise:
		t.zenith, t.rising = zenithSunrise, true
	case SolarSunset:
		t.zenith = zenithSunrise
	case SolarDawn:
		t.zenith, t.rising = float64(twilight), true
	case SolarDusk:
		t.zenith = float64(twilight)
	case SolarNoon:
	case "":
		return nil, FieldError("trigger.event", "required: sunrise, sunset, dawn, dusk or noon")
	default:
		return nil, FieldError("trigger.event", "%q: want sunrise, sunset, dawn, dusk or noon", s.Event)
	}
	if s.Twilight != "" && s.Event != SolarDawn && s.Event != SolarDusk {
		return nil, FieldError("trigger.twilight", "only for dawn and dusk")
	}
	if s.Offset != "" {
		d, err := time.ParseDuration(s.Offset)
		if err != nil || d < -24*time.Hour || d > 24*time.Hour {
			return nil, FieldError("trigger.offset", "%q: want a duration from -24h to 24h, such as \"-30m\" or \"1h15m\"", s.Offset)
		}
		t.offset = d
	}
	site, err := solarSite(s, env)
	if err != nil {
		return nil, err
	}
	t.lat, t.lon = site.Latitude, site.Longitude
	if s.DayOfWeek != "" {
		p, err := parseCronField(&cronFieldDefs[fDow], string(s.DayOfWeek))
		if err != nil {
			return nil, FieldError("trigger.day_of_week", "%v", err)
		}
		t.dow = uint8(p.mask() & 0x7f)
	}
	start, end, err := parseBounds(s, zone)
	if err != nil {
		return nil, err
	}
	if !start.IsZero() {
		t.start = start.Unix()
		if start.Nanosecond() != 0 {
			t.start++
		}
	}
	if !end.IsZero() {
		t.end = end.Unix()
	}
	return t, nil
}

// solarSite returns the trigger's own site, or env's.
func solarSite(s TriggerSpec, env Env) (Site, error) {
	if (s.Latitude == "") != (s.Longitude == "") {
		if s.Latitude == "" {
			return Site{}, FieldError("trigger.latitude", "required with longitude")
		}
		return Site{}, FieldError("trigger.longitude", "required with latitude")
	}
	if s.Latitude == "" {
		if env.Site == nil {
			return Site{}, FieldError("trigger.latitude", "no location: give latitude and longitude, or set location in the config")
		}
		return *env.Site, nil
	}
	lat, err1 := strconv.ParseFloat(s.Latitude, 64)
	lon, err2 := strconv.ParseFloat(s.Longitude, 64)
	if err1 != nil || err2 != nil {
		return Site{}, FieldError("trigger.latitude", "latitude and longitude must be numbers")
	}
	site := Site{Latitude: lat, Longitude: lon}
	return site, CheckSite(site, "trigger")
}

// eventOn returns the unix second of the event (offset not added) on day
// z of the trigger's zone: the one whose transit is nearest that date's
// local noon.
func (t *solarTrigger) eventOn(z int64) (float64, bool) {
	// Local noon need not be exact (it only picks the transit): one
	// look-up of the zone's offset.
	w := z*86400 + 43200
	noon, decl := solarNoon(float64(w-offsetAt(t.loc, w)), t.lon)
	if t.zenith == 0 {
		return noon, true
	}
	return sunEvent(noon, decl, t.lat, t.zenith, t.rising)
}

// Next implements Trigger: without prev, the first fire time at or after
// now; with prev, the first one after prev. Fire times are whole seconds.
func (t *solarTrigger) Next(prev, now time.Time) (time.Time, bool) {
	var from int64
	if !prev.IsZero() {
		from = prev.Unix() + 1
	} else {
		from = now.Unix()
		if now.Nanosecond() != 0 {
			from++
		}
	}
	if from < t.start {
		from = t.start
	}
	// The event of a date is within half a day of the sun's transit, near
	// that date's noon: only in the first hours of a date can the event of
	// the day before (a sunset after midnight, in the far north) still be
	// ahead. The offset moves every event alike.
	off := int64(t.offset / time.Second)
	local := time.Unix(from-off, 0).In(t.loc)
	z := dayNumber(local)
	if local.Hour() < solarEarlyHours {
		z--
	}
	for gap := 0; gap < solarMaxGap; z, gap = z+1, gap+1 {
		if t.dow&(1<<weekdayOfDays(z)) == 0 {
			continue
		}
		ev, ok := t.eventOn(z)
		if !ok {
			continue
		}
		at := int64(math.Round(ev)) + off
		if at < from {
			continue
		}
		if at > t.end {
			return time.Time{}, false
		}
		return time.Unix(at, 0).In(t.loc), true
	}
	return time.Time{}, false
}
