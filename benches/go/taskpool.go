// The seed's goroutine task pool, with the results-close race fixed, for a
// side-by-side comparison with `cargo run --release --example taskpool`.
//
// One producer goroutine per job (started by a feeder goroutine) sends the
// job into a bounded jobs channel; `-workers` workers receive, sleep the
// job's delay, and send a result. A WaitGroup over the *workers* (not the
// producers) closes the results channel, so no worker can send on a closed
// channel. main drains the results and prints a summary line in the same
// format as the Rust example.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"
)

type Task struct {
	ID    uint64
	Name  string
	Delay time.Duration
}

type Result struct {
	ID         uint64
	Name       string
	Worker     int
	FinishedAt time.Duration
}

func main() {
	tasks := flag.Uint64("tasks", 0, "number of jobs (0: the seed's two jobs)")
	workers := flag.Int("workers", 3, "number of workers")
	delayUs := flag.Uint64("delay-us", 0, "per-job delay in microseconds")
	capacity := flag.Int("cap", 1024, "capacity of the jobs and results channels")
	verbose := flag.Bool("verbose", false, "print every result")
	flag.Parse()

	var jobs []Task
	if *tasks == 0 {
		jobs = []Task{{1, "Task 1", 2 * time.Second}, {2, "Task 2", 1 * time.Second}}
	} else {
		jobs = make([]Task, *tasks)
		for i := range jobs {
			jobs[i] = Task{uint64(i + 1), "job", time.Duration(*delayUs) * time.Microsecond}
		}
	}
	printEach := *verbose || len(jobs) <= 20

	start := time.Now()
	jobsCh := make(chan Task, *capacity)
	results := make(chan Result, *capacity)

	var workersDone sync.WaitGroup
	for w := 0; w < *workers; w++ {
		workersDone.Add(1)
		go func(worker int) {
			defer workersDone.Done()
			for job := range jobsCh {
				if job.Delay > 0 {
					time.Sleep(job.Delay)
				}
				results <- Result{job.ID, job.Name, worker, time.Since(start)}
			}
		}(w)
	}
	// The fix: close results after the workers, not the producers, finish.
	go func() {
		workersDone.Wait()
		close(results)
	}()

	// Feeder: one producer goroutine per job; close jobs after all sent.
	go func() {
		var producers sync.WaitGroup
		for i, job := range jobs {
			producers.Add(1)
			go func(job Task) {
				defer producers.Done()
				jobsCh <- job
			}(job)
			if i%1024 == 1023 {
				runtime.Gosched() // as the Rust feeder yields
			}
		}
		producers.Wait()
		close(jobsCh)
	}()

	n := 0
	for r := range results {
		n++
		if printEach {
			fmt.Printf("worker %d finished %s (%d) at %v\n", r.Worker, r.Name, r.ID, r.FinishedAt)
		}
	}
	elapsed := time.Since(start)
	if n != len(jobs) {
		panic(fmt.Sprintf("got %d results for %d jobs", n, len(jobs)))
	}
	fmt.Printf("tasks=%d workers=%d elapsed=%v ns/task=%.0f\n", len(jobs), *workers, elapsed,
		float64(elapsed.Nanoseconds())/float64(len(jobs)))
}
