package clockstate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TimesyncdProbe is yes once systemd-timesyncd has synchronized the clock in
// this boot: it creates root/run/systemd/timesync/synchronized then.
func TimesyncdProbe(root string) Probe {
	path := filepath.Join(root, "run/systemd/timesync/synchronized")
	return Probe{Name: "timesyncd", Kind: KindNTP, Check: func(time.Time) (bool, error) {
		_, err := os.Stat(path)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, fs.ErrNotExist):
			return false, nil
		}
		return false, err
	}}
}

// maxSyncedError is the kernel's NTP_PHASE_LIMIT: a maximum error at or
// above it means no NTP client disciplined the clock lately.
const maxSyncedError = 16 * time.Second

// KernelProbe is yes when the kernel's NTP status says an NTP client
// (chrony, ntpd, timesyncd) keeps the clock: adjtimex reports a maximum
// error below 16 s. Like systemd's ntp_synced it ignores STA_UNSYNC, which
// some clients set only to stop the kernel from writing the RTC.
func KernelProbe() Probe { return kernelProbe(adjtimexMaxError) }

func kernelProbe(maxError func() (time.Duration, error)) Probe {
	return Probe{Name: "kernel", Kind: KindNTP, Check: func(time.Time) (bool, error) {
		e, err := maxError()
		if err != nil {
			return false, fmt.Errorf("adjtimex: %w", err)
		}
		return e < maxSyncedError, nil
	}}
}

// rtcTolerance is how far the RTC and the system clock may disagree and
// still count as "the clock was set from the RTC and nothing moved it since".
// Two crystals drift apart by up to ~10 s a day without NTP.
const rtcTolerance = 2 * time.Minute

// RTCProbe is yes when root/sys/class/rtc/rtc0 is a battery-backed RTC the
// kernel set the system clock from at boot (hctosys is 1) and it still
// agrees with the system clock. A board without an RTC (a Pi up to the 4)
// has no rtc0: no, without error.
func RTCProbe(root string) Probe {
	dir := filepath.Join(root, "sys/class/rtc/rtc0")
	return Probe{Name: "rtc0", Kind: KindRTC, Check: func(now time.Time) (bool, error) {
		hctosys, err := os.ReadFile(filepath.Join(dir, "hctosys"))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if strings.TrimSpace(string(hctosys)) == "0" {
			return false, nil // the system clock did not come from this RTC
		}
		// An RTC whose time is invalid (no battery) fails this read.
		since, err := os.ReadFile(filepath.Join(dir, "since_epoch"))
		if err != nil {
			return false, err
		}
		return rtcAgrees(string(hctosys), string(since), now)
	}}
}

// rtcAgrees parses rtc0's hctosys and since_epoch attributes and reports
// whether the RTC set the clock and agrees with now.
func rtcAgrees(hctosys, sinceEpoch string, now time.Time) (bool, error) {
	h := strings.TrimSpace(hctosys)
	if h != "0" && h != "1" {
		return false, fmt.Errorf("rtc0 hctosys %q: want 0 or 1", hctosys)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(sinceEpoch), 10, 64)
	if err != nil || secs < 0 {
		return false, fmt.Errorf("rtc0 since_epoch %q: not a number of seconds", sinceEpoch)
	}
	if h == "0" {
		return false, nil
	}
	diff := now.Sub(time.Unix(secs, 0))
	return diff > -rtcTolerance && diff < rtcTolerance, nil
}
