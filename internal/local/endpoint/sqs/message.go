package sqs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Limits of a message, as SQS had them before its 1 MiB messages (2025):
// stricter than AWS is the safe side for a local stand-in.
const (
	maxMessageSize  = 256 << 10 // body and attributes of one message
	maxBatchSize    = 256 << 10 // all messages of a batch
	maxRequestSize  = 1 << 20   // one HTTP request body
	maxBatchEntries = 10
	maxAttributes   = 10
	maxDelaySeconds = 900
)

// attributeValue is a message attribute as the JSON protocol sends it
// (binary values in base64).
type attributeValue struct {
	DataType         string
	StringValue      *string
	BinaryValue      []byte
	StringListValues []string
	BinaryListValues [][]byte
}

// message is what SendMessage and a SendMessageBatch entry carry.
type message struct {
	MessageBody             *string
	DelaySeconds            *int32
	MessageAttributes       map[string]attributeValue
	MessageSystemAttributes map[string]attributeValue
	MessageDeduplicationId  *string
	MessageGroupId          *string
}

// digests are the MD5s SQS returns for a message it took.
type digests struct {
	body, attributes, systemAttributes string
}

var (
	attrNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)
	numberRe   = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)
)

// check validates a message as SQS does for a standard queue and returns
// its digests. A reply queue (held) keeps its messages, and honours a
// delay; a trigger queue starts a run at once, and refuses one.
func (m *message) check(held bool) (digests, *sqsError) {
	if m.MessageBody == nil || *m.MessageBody == "" {
		return digests{}, errMissingParameter("MessageBody")
	}
	body := *m.MessageBody
	if r, ok := invalidRune(body); !ok {
		return digests{}, errInvalidMessageContents("Invalid binary character '#x%X' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", r)
	}
	if m.DelaySeconds != nil {
		switch d := *m.DelaySeconds; {
		case d < 0 || d > maxDelaySeconds:
			return digests{}, errInvalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and %d, if provided.", d, maxDelaySeconds)
		case d > 0 && !held:
			return digests{}, errInvalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: the local SQS endpoint starts a run as soon as a message arrives; delays are not supported (send with DelaySeconds 0).", d)
		}
	}
	if m.MessageDeduplicationId != nil {
		return digests{}, errInvalidParameter("The request includes a parameter that is not valid for this queue type. Reason: MessageDeduplicationId applies only to FIFO queues, which the local SQS endpoint does not have.")
	}
	size := len(body)
	n, err := checkAttributes(m.MessageAttributes, false)
	if err != nil {
		return digests{}, err
	}
	size += n
	if _, err := checkAttributes(m.MessageSystemAttributes, true); err != nil {
		return digests{}, err
	}
	if size > maxMessageSize {
		return digests{}, errInvalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxMessageSize)
	}
	sum := md5.Sum([]byte(body))
	return digests{
		body:             hex.EncodeToString(sum[:]),
		attributes:       md5OfAttributes(m.MessageAttributes),
		systemAttributes: md5OfAttributes(m.MessageSystemAttributes),
	}, nil
}

// invalidRune returns the first character SQS refuses in a message:
// allowed are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
// #x10000 to #x10FFFF.
func invalidRune(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r == 0x9, r == 0xA, r == 0xD,
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
		default:
			return r, false
		}
	}
	return 0, true
}

// checkAttributes validates message (or message system) attributes and
// returns their size, which counts towards the message's.
func checkAttributes(attrs map[string]attributeValue, system bool) (int, *sqsError) {
	if len(attrs) > maxAttributes {
		return 0, errInvalidParameter("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), maxAttributes)
	}
	size := 0
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		if system {
			if name != "AWSTraceHeader" {
				return 0, errInvalidParameter("Message system attribute name '%s' is invalid: the only one is AWSTraceHeader.", name)
			}
			if a.DataType != "String" {
				return 0, errInvalidParameter("Message system attribute AWSTraceHeader must be of type String.")
			}
		}
		lower := strings.ToLower(name)
		if !attrNameRe.MatchString(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") ||
			strings.Contains(name, "..") || (!system && (strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon."))) {
			return 0, errInvalidParameter("Message attribute name '%s' is invalid. Use up to 256 letters, digits, '_', '-' and '.', not starting or ending with '.', without '..', and not starting with 'AWS.' or 'Amazon.'.", name)
		}
		base, custom, dotted := strings.Cut(a.DataType, ".")
		if a.DataType == "" {
			return 0, errInvalidParameter("The message attribute '%s' must contain a non-empty attribute type.", name)
		}
		if (base != "String" && base != "Number" && base != "Binary") || (dotted && custom == "") || len(a.DataType) > 256 {
			return 0, errInvalidParameter("The type of message attribute '%s' is invalid: %q. Use String, Number or Binary, optionally followed by '.' and a custom label.", name, a.DataType)
		}
		if len(a.StringListValues) > 0 || len(a.BinaryListValues) > 0 {
			return 0, errInvalidParameter("Message attribute '%s': StringListValues and BinaryListValues are not implemented by SQS.", name)
		}
		var value int
		switch base {
		case "Binary":
			if a.StringValue != nil {
				return 0, errInvalidParameter("The message attribute '%s' with type 'Binary' must use field 'BinaryValue'.", name)
			}
			if len(a.BinaryValue) == 0 {
				return 0, errInvalidParameter("The message attribute '%s' must contain a non-empty message attribute value.", name)
			}
			value = len(a.BinaryValue)
		default:
			if a.BinaryValue != nil {
				return 0, errInvalidParameter("The message attribute '%s' with type '%s' must use field 'StringValue'.", name, base)
			}
			if a.StringValue == nil || *a.StringValue == "" {
				return 0, errInvalidParameter("The message attribute '%s' must contain a non-empty message attribute value.", name)
			}
			if r, ok := invalidRune(*a.StringValue); !ok {
				return 0, errInvalidMessageContents("Invalid binary character '#x%X' was found in the value of message attribute '%s'.", r, name)
			}
			if base == "Number" && !validNumber(*a.StringValue) {
				return 0, errInvalidParameter("Can't cast the value of message (user) attribute '%s' to a number: %q.", name, *a.StringValue)
			}
			value = len(*a.StringValue)
		}
		size += len(name) + len(a.DataType) + value
	}
	return size, nil
}

// validNumber accepts what SQS takes for a Number: a decimal with at most
// 38 significant digits.
func validNumber(s string) bool {
	if !numberRe.MatchString(s) {
		return false
	}
	mant, _, _ := strings.Cut(strings.ToLower(s), "e")
	digits := strings.TrimLeft(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, mant), "0")
	return len(digits) <= 38
}

// md5OfAttributes is SQS's digest of message attributes ("" for none): for
// each attribute, by name in byte order, the name, the data type and the
// value, each as a 4-byte big-endian length then its bytes, with a
// transport byte (1 for String and Number, 2 for Binary) before the value.
func md5OfAttributes(attrs map[string]attributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		writeField(h, []byte(name))
		writeField(h, []byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			writeField(h, a.BinaryValue)
		} else {
			h.Write([]byte{1})
			var v string
			if a.StringValue != nil {
				v = *a.StringValue
			}
			writeField(h, []byte(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// seconds is n seconds.
func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }
