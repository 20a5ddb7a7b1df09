//! The soak's load: `connections` raw WebSocket clients, one in ten
//! vanishing (it stops answering without a FIN) and one in ten closing
//! and reconnecting, over and over; four in ten echo a message a second
//! and four in ten sit idle, answering the heartbeat. Every 5 s it samples
//! the server; at the end it judges.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::time::{sleep, sleep_until};

use crate::peer::{Event, Peer};
use crate::sample;

/// How late past interval + timeout a vanished peer may be dropped
/// (timer resolution and a busy machine).
const DROP_SLACK: Duration = Duration::from_millis(500);
/// How long an echo may take before it counts as lost.
const ECHO_DEADLINE: Duration = Duration::from_secs(5);

pub struct Plan {
    pub addr: SocketAddr,
    pub server_pid: u32,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    /// The heartbeat's interval plus its timeout: the latest a vanished peer may be dropped.
    pub heartbeat: Duration,
    pub mix: Mix,
}

/// Out of every ten connections, how many echo, idle, vanish and reconnect.
pub struct Mix(pub [usize; 4]);

impl Mix {
    /// `SOAK_MIX=echo,idle,vanish,reconnect` (tenths), 4,4,1,1 by default.
    pub fn from_env() -> Self {
        let parsed: Option<Vec<usize>> = std::env::var("SOAK_MIX")
            .ok()
            .map(|mix| mix.split(',').filter_map(|n| n.trim().parse().ok()).collect());
        match parsed {
            Some(shares) if shares.len() == 4 && shares.iter().sum::<usize>() == 10 => {
                Self([shares[0], shares[1], shares[2], shares[3]])
            }
            Some(_) => panic!("SOAK_MIX must be four tenths that sum to 10, e.g. 4,4,1,1"),
            None => Self([4, 4, 1, 1]),
        }
    }

    fn kind_of(&self, index: usize) -> Kind {
        let mut tenth = index % 10;
        for (share, kind) in self
            .0
            .iter()
            .zip([Kind::Echo, Kind::Idle, Kind::Vanish, Kind::Reconnect])
        {
            if tenth < *share {
                return kind;
            }
            tenth -= share;
        }
        unreachable!("the shares sum to 10")
    }
}

#[derive(Default)]
struct Tally {
    open: Cell<usize>,
    echoes: Cell<u64>,
    healthy_dropped: Cell<u64>,
    lost_echoes: Cell<u64>,
    vanished_dropped: Cell<u64>,
    vanished_late: Cell<u64>,
    slowest_drop: Cell<Duration>,
    reconnects: Cell<u64>,
    late_connect_failures: Cell<u64>,
}

fn bump(cell: &Cell<u64>) {
    cell.set(cell.get() + 1);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Echo,
    Idle,
    Vanish,
    Reconnect,
}

struct Slot {
    index: usize,
    kind: Kind,
    addr: SocketAddr,
    start: Instant,
    end: Instant,
    warmup: Duration,
    heartbeat: Duration,
    tally: Rc<Tally>,
}

pub async fn run(plan: Plan) -> bool {
    let start = Instant::now();
    let end = start + plan.duration;
    let tally = Rc::new(Tally::default());
    for index in 0..plan.connections {
        let kind = plan.mix.kind_of(index);
        let slot = Slot {
            index,
            kind,
            addr: plan.addr,
            start,
            end,
            warmup: plan.warmup,
            heartbeat: plan.heartbeat,
            tally: tally.clone(),
        };
        tokio::task::spawn_local(slot.run());
        if index % 100 == 99 {
            sleep(Duration::from_millis(10)).await; // ramp up at about 10 000 a second
        }
    }
    let samples = sample_until(&plan, &tally, start, end).await;
    sleep(plan.heartbeat + DROP_SLACK).await; // the last vanished peers are judged
    verdict(&plan, &tally, &samples)
}

async fn sample_until(plan: &Plan, tally: &Tally, start: Instant, end: Instant) -> Vec<sample::Sample> {
    let mut samples = Vec::new();
    let mut next = start;
    while next <= end {
        sleep_until(next.into()).await;
        let s = sample::take(plan.server_pid, start.elapsed());
        println!(
            "t={:>4}s rss={:>7} KB fds={:>6} open={:>6} echoes={:>8} vanished_dropped={:>6} reconnects={:>6}",
            s.at.as_secs(),
            s.rss_kb,
            s.fds,
            tally.open.get(),
            tally.echoes.get(),
            tally.vanished_dropped.get(),
            tally.reconnects.get()
        );
        samples.push(s);
        next += Duration::from_secs(5);
    }
    samples
}

fn verdict(plan: &Plan, tally: &Tally, samples: &[sample::Sample]) -> bool {
    let settled: Vec<_> = samples.iter().filter(|s| s.at >= plan.warmup).collect();
    let rss: Vec<f64> = settled.iter().map(|s| s.rss_kb as f64).collect();
    let fds: Vec<f64> = settled.iter().map(|s| s.fds as f64).collect();
    let mut failures = Vec::new();
    if let Some((from, to)) = sample::grew(&rss, 0.05, 1024.0) {
        failures.push(format!("server RSS grew after the warm-up: {from:.0} KB -> {to:.0} KB"));
    }
    if let Some((from, to)) = sample::grew(&fds, 0.02, 20.0) {
        failures.push(format!(
            "server file descriptors grew after the warm-up: {from:.0} -> {to:.0}"
        ));
    }
    let counts = [
        (tally.healthy_dropped.get(), "healthy connections dropped"),
        (tally.lost_echoes.get(), "echoes lost or late"),
        (
            tally.vanished_late.get(),
            "vanished peers not dropped within interval + timeout",
        ),
        (
            tally.late_connect_failures.get(),
            "connections refused after the warm-up",
        ),
    ];
    failures.extend(
        counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}")),
    );
    if tally.vanished_dropped.get() == 0 && plan.mix.0[2] > 0 {
        failures.push("no vanished peer was dropped: the soak was too short".into());
    }
    println!(
        "soak: {} connections for {:?}: {} echoes, {} reconnects, {} vanished peers dropped (slowest {:?} after vanishing; limit {:?})",
        plan.connections, plan.duration, tally.echoes.get(), tally.reconnects.get(), tally.vanished_dropped.get(),
        tally.slowest_drop.get(), plan.heartbeat + DROP_SLACK
    );
    for failure in &failures {
        println!("soak FAILED: {failure}");
    }
    failures.is_empty()
}

impl Slot {
    async fn run(self) {
        while Instant::now() < self.end {
            let Some(mut peer) = self.connect().await else { return };
            self.tally.open.set(self.tally.open.get() + 1);
            let lifetime = Duration::from_millis(3000 + (self.index as u64 * 7919) % 5000);
            let done = match self.kind {
                Kind::Echo | Kind::Idle => self.live(&mut peer, self.end).await,
                Kind::Vanish => self.live(&mut peer, Instant::now() + lifetime).await && self.vanish(&mut peer).await,
                Kind::Reconnect => self.live(&mut peer, Instant::now() + lifetime).await && self.close(&mut peer).await,
            };
            self.tally.open.set(self.tally.open.get() - 1);
            if !done {
                return;
            }
        }
    }

    async fn connect(&self) -> Option<Peer> {
        loop {
            if let Some(peer) = Peer::connect(self.addr).await {
                return Some(peer);
            }
            if self.start.elapsed() >= self.warmup {
                bump(&self.tally.late_connect_failures);
            }
            if Instant::now() >= self.end {
                return None;
            }
            sleep(Duration::from_millis(100)).await;
        }
    }

    /// Answers pings (and, echoing, sends a message a second) until
    /// `until`; false if the server dropped the connection meanwhile.
    async fn live(&self, peer: &mut Peer, until: Instant) -> bool {
        let until = until.min(self.end);
        let echoing = matches!(self.kind, Kind::Echo | Kind::Reconnect);
        let mut next_send = Instant::now() + Duration::from_millis((self.index as u64 * 31) % 1000);
        let mut waiting: Option<(Vec<u8>, Instant)> = None;
        let mut sent = 0u64;
        while Instant::now() < until {
            let wake = if echoing { next_send.min(until) } else { until };
            let event = tokio::select! {
                event = peer.next_event() => event,
                () = sleep_until(wake.into()) => {
                    if echoing && Instant::now() >= next_send && waiting.is_none() {
                        sent += 1;
                        let payload = format!("soak {} {sent}", self.index).into_bytes();
                        if !peer.send(0x1, &payload).await {
                            return self.dropped();
                        }
                        waiting = Some((payload, Instant::now()));
                        next_send += Duration::from_secs(1);
                    }
                    if waiting.as_ref().is_some_and(|(_, at)| at.elapsed() > ECHO_DEADLINE) {
                        bump(&self.tally.lost_echoes);
                        waiting = None;
                    }
                    continue;
                }
            };
            match event {
                Event::Ping(payload) => {
                    if !peer.send(0xA, &payload).await {
                        return self.dropped();
                    }
                }
                Event::Data(data) => match waiting.take() {
                    Some((payload, _)) if payload == data => bump(&self.tally.echoes),
                    _ => bump(&self.tally.lost_echoes),
                },
                Event::Close | Event::Gone => return self.dropped(),
            }
        }
        true
    }

    fn dropped(&self) -> bool {
        bump(&self.tally.healthy_dropped);
        eprintln!("soak: healthy connection {} dropped", self.index);
        false
    }

    /// Stops answering; the heartbeat must drop it within interval + timeout.
    async fn vanish(&self, peer: &mut Peer) -> bool {
        if Instant::now() + self.heartbeat + DROP_SLACK > self.end {
            return false; // too close to the end to be judged
        }
        let vanished = Instant::now();
        let dropped_at = peer.play_dead().await;
        let took = dropped_at - vanished;
        bump(&self.tally.vanished_dropped);
        self.tally.slowest_drop.set(self.tally.slowest_drop.get().max(took));
        if took > self.heartbeat + DROP_SLACK {
            bump(&self.tally.vanished_late);
        }
        true
    }

    /// The closing handshake from our side, then a new connection.
    async fn close(&self, peer: &mut Peer) -> bool {
        if !peer.send(0x8, &1000u16.to_be_bytes()).await {
            return self.dropped();
        }
        loop {
            match peer.next_event().await {
                Event::Close => break,
                Event::Gone => return self.dropped(),
                Event::Ping(_) | Event::Data(_) => {}
            }
        }
        // The server closes the TCP connection first (RFC 6455 §7.1.1).
        let closed = tokio::time::timeout(Duration::from_secs(5), peer.next_event()).await;
        if closed != Ok(Event::Gone) {
            return self.dropped();
        }
        bump(&self.tally.reconnects);
        true
    }
}
