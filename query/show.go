package query

import (
	"strings"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/protocol"
)

var fieldNames = [protocol.NumFields]string{"ReqFieldName", "ReqFieldIp", "ReqFieldMNodePip"}

// ShowQuery renders a query as Haskell's derived Show prints Ganeti's
// ConfdQuery (src/Ganeti/Confd/Types.hs), which the 3.0 server embeds in
// "Invalid query type …" answers, e.g.
//
//	DictQuery (ConfdReqQ {confdReqQIp = Nothing, confdReqQIpList = [], confdReqQLink = Nothing, confdReqQFields = []})
func ShowQuery(q *protocol.Query) string {
	switch q.Kind {
	case protocol.QueryEmpty:
		return "EmptyQuery"
	case protocol.QueryPlain:
		return "PlainQuery " + hs.ShowString(string(q.Plain))
	}
	var b strings.Builder
	b.WriteString("DictQuery (ConfdReqQ {confdReqQIp = ")
	showMaybe(&b, q.IP, q.HasIP)
	b.WriteString(", confdReqQIpList = [")
	for i, ip := range q.IPList {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(hs.ShowString(string(ip)))
	}
	b.WriteString("], confdReqQLink = ")
	showMaybe(&b, q.Link, q.HasLink)
	b.WriteString(", confdReqQFields = [")
	for i, f := range q.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fieldNames[f])
	}
	b.WriteString("]})")
	return b.String()
}

func showMaybe(b *strings.Builder, s []byte, present bool) {
	if !present {
		b.WriteString("Nothing")
		return
	}
	b.WriteString("Just ")
	b.WriteString(hs.ShowString(string(s)))
}
