// Package peers holds the benchmarks of schedulers edgecron is compared
// with that are not in edgecron's own module: github.com/go-co-op/gocron/v2.
// It is a module of its own so that gocron never appears among the agent's
// requirements; scripts/bench.sh builds its test binary and runs each
// benchmark here in the same rounds as edgecron's benchmark of the same
// name in sched (BenchmarkSameSecond, BenchmarkAdd), which report the same
// metrics the same way (docs/performance.md).
package peers
