// An old Kafka client for Tributary's tests: segmentio/kafka-go 0.2 (Debian's
// golang-github-segmentio-kafka-go-dev), which speaks Produce v2 and Fetch v2 (message format
// v1), Metadata v1, ListOffsets v1 and the v0/v1 group APIs.
//
//	kafka-go-old produce <broker> <topic> <count> <codec: none|gzip|snappy|lz4>
//	kafka-go-old consume <broker> <topic> <group> <count>
//
// produce writes <count> messages key-<i>/value-<i> (acks=all, batches of 10); consume reads
// <count> messages as a member of <group>, commits them, and prints them as JSON lines.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 5 {
		fail("usage: kafka-go-old produce|consume <broker> <topic> ...")
	}
	broker, topic := os.Args[2], os.Args[3]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch os.Args[1] {
	case "produce":
		count, _ := strconv.Atoi(os.Args[4])
		var codec kafka.CompressionCodec
		switch os.Args[5] {
		case "gzip":
			codec = gzip.NewCompressionCodec()
		case "snappy":
			codec = snappy.NewCompressionCodec()
		case "lz4":
			codec = lz4.NewCompressionCodec()
		}
		w := kafka.NewWriter(kafka.WriterConfig{Brokers: []string{broker}, Topic: topic, RequiredAcks: -1, BatchSize: 10, BatchTimeout: 10 * time.Millisecond, CompressionCodec: codec, Balancer: &kafka.Hash{}})
		msgs := make([]kafka.Message, count)
		for i := range msgs {
			msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(fmt.Sprintf("value-%d", i))}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			fail("produce: %v", err)
		}
		if err := w.Close(); err != nil {
			fail("close: %v", err)
		}
		fmt.Println(`{"produced":` + strconv.Itoa(count) + `}`)
	case "consume":
		group := os.Args[4]
		count, _ := strconv.Atoi(os.Args[5])
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, GroupID: group, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 200 * time.Millisecond, SessionTimeout: 10 * time.Second})
		enc := json.NewEncoder(os.Stdout)
		for i := 0; i < count; i++ {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				fail("fetch after %d messages: %v", i, err)
			}
			if err := r.CommitMessages(ctx, m); err != nil {
				fail("commit: %v", err)
			}
			enc.Encode(map[string]interface{}{"partition": m.Partition, "offset": m.Offset, "key": string(m.Key), "value": string(m.Value), "time": m.Time.UnixNano() / 1e6})
		}
		if err := r.Close(); err != nil {
			fail("close: %v", err)
		}
	default:
		fail("unknown command %s", os.Args[1])
	}
}
