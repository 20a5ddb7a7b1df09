//! `ConfigBuilder::build`'s checks.
use super::*;

#[test]
fn zero_and_contradictory_values_are_named() {
    let zero = Duration::ZERO;
    let second = Duration::from_secs(1);
    let cases = [
        (Config::builder().max_frame_size(0), ConfigError::Zero("max_frame_size")),
        (
            Config::builder().read_buffer_size(0),
            ConfigError::Zero("read_buffer_size"),
        ),
        (
            Config::builder().close_timeout(zero),
            ConfigError::Zero("close_timeout"),
        ),
        (
            Config::builder().heartbeat(zero, second),
            ConfigError::Zero("heartbeat interval"),
        ),
        (
            Config::builder().heartbeat(second, zero),
            ConfigError::Zero("heartbeat timeout"),
        ),
        (
            Config::builder().idle_timeout(Some(zero)),
            ConfigError::Zero("idle_timeout"),
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err(), expected);
    }
    let inverted = Config::builder().max_write_buffer_size(1 << 10).build();
    assert!(matches!(inverted, Err(ConfigError::Contradiction(_))));
    let fixed = Config::builder().max_write_buffer_size(1 << 10).write_buffer_size(512);
    assert!(fixed.build().is_ok());
    assert!(Config::builder().no_heartbeat().idle_timeout(None).build().is_ok());
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_settings_out_of_range_are_named() {
    use crate::DeflateConfig;
    let build = |d: DeflateConfig| Config::builder().deflate(d).build();
    // No zlib-family compressor can use an 8-bit window; inflating one is fine.
    assert!(matches!(
        build(DeflateConfig::default().window_bits(8)),
        Err(ConfigError::OutOfRange(_))
    ));
    assert!(build(DeflateConfig::default().peer_window_bits(8)).is_ok());
    assert!(matches!(
        build(DeflateConfig::default().peer_window_bits(16)),
        Err(ConfigError::OutOfRange(_))
    ));
    assert!(matches!(
        build(DeflateConfig::default().level(10)),
        Err(ConfigError::OutOfRange(_))
    ));
    assert!(build(DeflateConfig::default().window_bits(9).level(9)).is_ok());
    assert!(matches!(
        build(DeflateConfig::default().context_size((32 << 10) + 1)),
        Err(ConfigError::OutOfRange(_))
    ));
    for preset in [DeflateConfig::least_memory(), DeflateConfig::smallest_on_wire()] {
        assert!(build(preset.context_size(32 << 10)).is_ok());
    }
}
