package clockstate

// Hooks for the external tests: the kernel probe over a fake adjtimex and
// the RTC attribute parser.
var (
	KernelProbeWith = kernelProbe
	RTCAgrees       = rtcAgrees
)
