// Command etcdtxnbench does what `kubeswift bench etcd` does for its create phase, through grpc-go's etcd
// client (clientv3, as vendored by upstream's kube-apiserver): create transactions (compare mod_revision to 0,
// then put) of ConfigMaps with the same keys and bytes, a fixed number in flight. It prints the rate and the
// client's own CPU per transaction, the yardstick for our etcd client's CPU. Built against upstream's source
// tree by scripts/bench-etcd-client-go.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func processCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

func configMap(name, run string, valueBytes int) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","namespace":"bench",`+
		`"labels":{"kubeswift-bench":"%s","kubeswift-bench-set":"etcd"}},"data":{"value":"%s"}}`,
		name, run, strings.Repeat("x", valueBytes))
}

func create(client *clientv3.Client, key, value string) error {
	_, err := client.Txn(context.Background()).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, value)).
		Commit()
	return err
}

func main() {
	endpoint := flag.String("etcd-servers", "http://127.0.0.1:2379", "etcd client URL")
	objects := flag.Int("objects", 8000, "keys created")
	concurrency := flag.Int("concurrency", 16, "transactions kept in flight")
	valueBytes := flag.Int("value-bytes", 300, "bytes in each ConfigMap's data value")
	flag.Parse()

	client, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer client.Close()
	run := fmt.Sprintf("go%d", time.Now().UnixNano()%1000000)
	keys := make([]string, *objects)
	values := make([]string, *objects)
	for i := range keys {
		name := fmt.Sprintf("bench-%s-c%d-%d", run, *concurrency, i)
		keys[i], values[i] = "/registry/configmaps/bench/"+name, configMap(name, run, *valueBytes)
	}
	// The first call pays for the connection; keep it out of the figures.
	if _, err := client.Get(context.Background(), "/registry/health"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	var next int64 = -1
	var failures int64
	cpuBefore, started := processCPU(), time.Now()
	var workers sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(*objects) {
					return
				}
				if create(client, keys[i], values[i]) != nil {
					atomic.AddInt64(&failures, 1)
				}
			}
		}()
	}
	workers.Wait()
	elapsed, cpu := time.Since(started), processCPU()-cpuBefore
	fmt.Printf("grpc-go put (create txn): %d at %d in flight, %d failed, %.1f per second\n", *objects,
		*concurrency, failures, float64(*objects)/elapsed.Seconds())
	fmt.Printf("    client CPU: %.2f s, %.1f µs per operation\n", cpu.Seconds(),
		float64(cpu.Microseconds())/float64(*objects))
	if failures > 0 {
		os.Exit(1)
	}
}
