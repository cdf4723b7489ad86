package main

// Minimal protobuf wire helpers, producing the bytes gogoproto produces for CometBFT v0.37 messages: fields in
// ascending order, proto3 zero scalars and empty bytes/strings omitted, non-nullable embedded messages always
// emitted (even when empty).

import (
	b64 "encoding/base64"
	"errors"
	"fmt"
)

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTag(b []byte, field int, wire int) []byte {
	return appendVarint(b, uint64(field)<<3|uint64(wire))
}

// appendInt writes an int64/int32/uint32/enum field; zero is omitted (proto3). Negative values are written as
// 10-byte two's complement varints, as Go's protobuf does for int64 and int32.
func appendInt(b []byte, field int, v int64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, field, wireVarint)
	return appendVarint(b, uint64(v))
}

func appendBool(b []byte, field int, v bool) []byte {
	if !v {
		return b
	}
	b = appendTag(b, field, wireVarint)
	return append(b, 1)
}

// appendBytes writes a bytes/string field; empty is omitted (proto3).
func appendBytes(b []byte, field int, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return appendMsg(b, field, v)
}

func appendString(b []byte, field int, v string) []byte {
	return appendBytes(b, field, []byte(v))
}

// appendMsg writes a length-delimited field even when empty: non-nullable embedded messages, repeated elements,
// oneof members, set pointers.
func appendMsg(b []byte, field int, v []byte) []byte {
	b = appendTag(b, field, wireBytes)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// ---------------------------------------------------------------------------------------------------------------
// Reading: just enough to walk the fields of a message.

type protoField struct {
	num   int
	wire  int
	value uint64 // varint / fixed
	bytes []byte // length-delimited
}

var errTruncated = errors.New("truncated protobuf message")

func readVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errTruncated
}

// walkFields calls fn for every field of the encoded message b.
func walkFields(b []byte, what string, fn func(f protoField) error) error {
	for len(b) > 0 {
		tag, n, err := readVarint(b)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		b = b[n:]
		f := protoField{num: int(tag >> 3), wire: int(tag & 7)}
		switch f.wire {
		case wireVarint:
			f.value, n, err = readVarint(b)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			b = b[n:]
		case wireFixed64:
			if len(b) < 8 {
				return fmt.Errorf("%s: %w", what, errTruncated)
			}
			b = b[8:]
		case wireFixed32:
			if len(b) < 4 {
				return fmt.Errorf("%s: %w", what, errTruncated)
			}
			b = b[4:]
		case wireBytes:
			l, n, err := readVarint(b)
			if err != nil || uint64(len(b)-n) < l {
				return fmt.Errorf("%s: %w", what, errTruncated)
			}
			f.bytes = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			return fmt.Errorf("%s: unsupported wire type %d in field %d", what, f.wire, f.num)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func encodeBase64(b []byte) string {
	return stdBase64.EncodeToString(b)
}

var stdBase64 = b64.StdEncoding
