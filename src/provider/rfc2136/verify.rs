//! Reading records back after the server accepted an UPDATE (`verify = true`): one A/AAAA
//! query per name and family, pipelined on one TCP connection (RFC 7766 §6.2.1.1), compared
//! with what was sent. Queries are unsigned (the records are public data).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, RecordType};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::error::{Rfc2136Error, show_duration};
use super::message::PreparedTarget;
use super::transport::{describe, frame, read_framed};

/// At most this many queries share one connection (message IDs stay unique on it).
const QUERIES_PER_CONNECTION: usize = 4096;

/// One question: which target, which family, what we sent.
struct Question {
    target: usize,
    rtype: RecordType,
    expected: IpAddr,
}

/// One outcome per target, in order: `Ok` when the server serves exactly what was sent for
/// every family of the target. Uses `connection` (the UPDATE's, RFC 7766 §6.2.1 allows
/// reuse) when given, else connects.
pub(super) async fn read_back(
    server: SocketAddr,
    mut connection: Option<TcpStream>,
    limit: Duration,
    targets: &[PreparedTarget],
) -> Vec<Result<(), Rfc2136Error>> {
    let questions: Vec<Question> = targets
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            let v4 = t.addresses.ipv4.map(|a| Question {
                target: i,
                rtype: RecordType::A,
                expected: IpAddr::V4(a),
            });
            let v6 = t.addresses.ipv6.map(|a| Question {
                target: i,
                rtype: RecordType::AAAA,
                expected: IpAddr::V6(a),
            });
            v4.into_iter().chain(v6)
        })
        .collect();
    let mut outcomes: Vec<Result<(), Rfc2136Error>> = targets.iter().map(|_| Ok(())).collect();
    for chunk in questions.chunks(QUERIES_PER_CONNECTION) {
        let asked = ask(server, connection.take(), targets, chunk);
        let answers = match timeout(limit, asked).await {
            Ok(Ok(answers)) => answers,
            Ok(Err(reason)) => {
                fail_all(&mut outcomes, chunk, server, targets, &reason);
                continue;
            }
            Err(_) => {
                let reason = format!("no answer within {}", show_duration(limit));
                fail_all(&mut outcomes, chunk, server, targets, &reason);
                continue;
            }
        };
        for (question, served) in chunk.iter().zip(answers) {
            let Some(outcome) = outcomes.get_mut(question.target) else {
                continue;
            };
            if outcome.is_err() || served == [question.expected] {
                continue;
            }
            let Some(target) = targets.get(question.target) else {
                continue;
            };
            *outcome = Err(Rfc2136Error::Mismatch {
                server,
                name: target.name.to_ascii().trim_end_matches('.').to_string(),
                rtype: if question.rtype == RecordType::A {
                    "A"
                } else {
                    "AAAA"
                },
                expected: question.expected.to_string(),
                served: served.iter().map(IpAddr::to_string).collect(),
            });
        }
    }
    outcomes
}

/// Acknowledges every segment at once. BIND sends answers with Nagle on and 1,220-byte
/// segments; when it has a short segment unacknowledged, it holds the next answers until our
/// delayed ACK (40 ms on Linux), once per connection. Quick ACK mode is not sticky, hence per
/// read.
fn quick_ack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

fn fail_all(
    outcomes: &mut [Result<(), Rfc2136Error>],
    chunk: &[Question],
    server: SocketAddr,
    targets: &[PreparedTarget],
    reason: &str,
) {
    for question in chunk {
        let Some(outcome) = outcomes.get_mut(question.target) else {
            continue;
        };
        if outcome.is_ok() {
            let name = targets
                .get(question.target)
                .map(|t| t.name.to_ascii().trim_end_matches('.').to_string())
                .unwrap_or_default();
            *outcome = Err(Rfc2136Error::ReadBack {
                server,
                name,
                reason: reason.to_string(),
            });
        }
    }
}

/// Sends every question on one connection and returns the served addresses per question.
/// Writing and reading run together so neither side's buffers can fill up and stall.
async fn ask(
    server: SocketAddr,
    connection: Option<TcpStream>,
    targets: &[PreparedTarget],
    questions: &[Question],
) -> Result<Vec<Vec<IpAddr>>, String> {
    let mut stream = match connection {
        Some(stream) => stream,
        None => {
            let stream = TcpStream::connect(server).await.map_err(|e| describe(&e))?;
            let _ = stream.set_nodelay(true);
            stream
        }
    };
    let mut requests = Vec::with_capacity(questions.len() * 48);
    for (id, question) in questions.iter().enumerate() {
        let Some(target) = targets.get(question.target) else {
            continue;
        };
        let mut msg = Message::new(
            u16::try_from(id).map_err(|_| "too many queries".to_string())?,
            MessageType::Query,
            OpCode::Query,
        );
        let mut query = Query::new();
        query
            .set_name(target.name.clone())
            .set_query_class(DNSClass::IN)
            .set_query_type(question.rtype);
        msg.add_query(query);
        let bytes = msg.to_vec().map_err(|e| e.to_string())?;
        requests.extend(frame(&bytes).map_err(|e| e.to_string())?);
    }
    let (mut reader, mut writer) = stream.split();
    let write = async { writer.write_all(&requests).await.map_err(|e| describe(&e)) };
    let read = async {
        let mut served: Vec<Option<Vec<IpAddr>>> = questions.iter().map(|_| None).collect();
        let mut missing = questions.len();
        while missing > 0 {
            quick_ack(reader.as_ref());
            let bytes = read_framed(&mut reader).await.map_err(|e| describe(&e))?;
            let reply = Message::from_vec(&bytes).map_err(|e| format!("unparsable answer: {e}"))?;
            let id = usize::from(reply.metadata.id);
            let (Some(slot), Some(question), Some(target)) = (
                served.get_mut(id),
                questions.get(id),
                questions.get(id).and_then(|q| targets.get(q.target)),
            ) else {
                continue;
            };
            if slot.is_some() {
                continue;
            }
            match reply.metadata.response_code {
                ResponseCode::NoError | ResponseCode::NXDomain => {}
                other => return Err(format!("query answered {other}")),
            }
            let addrs = reply
                .answers
                .iter()
                .filter(|r| r.record_type() == question.rtype && r.name == target.name)
                .filter_map(|r| match &r.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })
                .collect();
            *slot = Some(addrs);
            missing -= 1;
        }
        Ok::<_, String>(served.into_iter().map(Option::unwrap_or_default).collect())
    };
    let (written, answers) = tokio::join!(write, read);
    written?;
    answers
}
