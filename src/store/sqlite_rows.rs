//! Mapping between [`CallRecord`] and a row of `calls`.
use std::sync::LazyLock;

use rusqlite::types::Value;
use rusqlite::Row;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{AudioStats, CallRecord, Disposition, Location, StoreError, Timestamp};

/// The columns of `calls`, in the order of [`record_values`] and [`record_from_row`].
pub(super) const COLUMNS: &[&str] = &[
    "id",
    "sip_call_id",
    "caller",
    "display_name",
    "trunk",
    "state",
    "received_at",
    "screened_at",
    "queued_at",
    "ringing_at",
    "answered_at",
    "ended_at",
    "class",
    "score",
    "reasons",
    "speech_ms",
    "silence_ms",
    "mean_dbfs",
    "peak_dbfs",
    "dtmf",
    "seat",
    "end_reason",
    "ended_by",
    "lat",
    "lon",
    "accuracy_m",
    "location_source",
    "kecamatan",
    "kelurahan",
    "category",
    "mark",
    "d_kecamatan",
    "d_kelurahan",
    "notes",
    "disposed_by",
    "disposed_at",
    "media",
];

/// `SELECT <every column> FROM calls`.
pub(super) static SELECT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM calls", COLUMNS.join(", ")));

/// Insert-or-update of a whole row.
pub(super) static UPSERT: LazyLock<String> = LazyLock::new(|| {
    let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    let sets: Vec<String> = COLUMNS[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO calls ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        COLUMNS.join(", "),
        marks.join(", "),
        sets.join(", ")
    )
});

/// An enum's serde name (`"silent_needs_help"`), the form stored in text columns.
pub(super) fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// The enum named `s` in `column`.
pub(super) fn parse<T: DeserializeOwned>(column: &'static str, s: String) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.clone()))
        .map_err(|_| StoreError::Corrupt { column, value: s })
}

fn opt_name<T: Serialize>(v: Option<&T>) -> Value {
    v.map_or(Value::Null, |v| Value::Text(name(v)))
}

fn text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::Text(s.to_owned()))
}

fn ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::Integer(t.as_ms()))
}

fn real<T: Into<f64>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| Value::Real(v.into()))
}

/// The row for `r`, in [`COLUMNS`] order.
pub(super) fn record_values(r: &CallRecord) -> Vec<Value> {
    let audio = r.audio.as_ref();
    let loc = r.location.as_ref();
    let d = r.disposition.as_ref();
    vec![
        Value::Text(r.id.clone()),
        Value::Text(r.sip_call_id.clone()),
        text(r.caller.as_deref()),
        text(r.display_name.as_deref()),
        Value::Text(r.trunk.clone()),
        Value::Text(name(&r.state)),
        Value::Integer(r.received_at.as_ms()),
        ts(r.screened_at),
        ts(r.queued_at),
        ts(r.ringing_at),
        ts(r.answered_at),
        ts(r.ended_at),
        opt_name(r.class.as_ref()),
        r.score
            .map_or(Value::Null, |s| Value::Integer(i64::from(s))),
        Value::Text(serde_json::to_string(&r.reasons).unwrap_or_else(|_| "[]".into())),
        audio.map_or(Value::Null, |a| Value::Integer(i64::from(a.speech_ms))),
        audio.map_or(Value::Null, |a| Value::Integer(i64::from(a.silence_ms))),
        real(audio.and_then(|a| a.mean_dbfs)),
        real(audio.and_then(|a| a.peak_dbfs)),
        text(audio.map(|a| a.dtmf.as_str())),
        text(r.seat.as_deref()),
        opt_name(r.end_reason.as_ref()),
        opt_name(r.ended_by.as_ref()),
        real(loc.map(|l| l.lat)),
        real(loc.map(|l| l.lon)),
        real(loc.and_then(|l| l.accuracy_m)),
        text(loc.map(|l| l.source.as_str())),
        text(r.kecamatan.as_deref()),
        text(r.kelurahan.as_deref()),
        text(d.map(|d| d.category.as_str())),
        opt_name(d.map(|d| &d.mark)),
        text(d.and_then(|d| d.kecamatan.as_deref())),
        text(d.and_then(|d| d.kelurahan.as_deref())),
        text(d.map(|d| d.notes.as_str())),
        text(d.map(|d| d.by.as_str())),
        ts(d.map(|d| d.at)),
        text(r.media.as_ref().map(|m| m.to_string()).as_deref()),
    ]
}

fn get<T: rusqlite::types::FromSql>(row: &Row<'_>, i: usize) -> Result<T, StoreError> {
    row.get(i).map_err(|e| StoreError::Backend(e.to_string()))
}

fn get_ts(row: &Row<'_>, i: usize) -> Result<Option<Timestamp>, StoreError> {
    Ok(get::<Option<i64>>(row, i)?.map(Timestamp::from_ms))
}

fn get_enum<T: DeserializeOwned>(row: &Row<'_>, i: usize) -> Result<Option<T>, StoreError> {
    get::<Option<String>>(row, i)?
        .map(|s| parse(COLUMNS[i], s))
        .transpose()
}

/// A record from a row selected with [`SELECT`].
pub(super) fn record_from_row(row: &Row<'_>) -> Result<CallRecord, StoreError> {
    let reasons: String = get(row, 14)?;
    Ok(CallRecord {
        id: get(row, 0)?,
        sip_call_id: get(row, 1)?,
        caller: get(row, 2)?,
        display_name: get(row, 3)?,
        trunk: get(row, 4)?,
        state: parse("state", get(row, 5)?)?,
        received_at: Timestamp::from_ms(get(row, 6)?),
        screened_at: get_ts(row, 7)?,
        queued_at: get_ts(row, 8)?,
        ringing_at: get_ts(row, 9)?,
        answered_at: get_ts(row, 10)?,
        ended_at: get_ts(row, 11)?,
        class: get_enum(row, 12)?,
        score: get(row, 13)?,
        reasons: serde_json::from_str(&reasons).map_err(|_| StoreError::Corrupt {
            column: "reasons",
            value: reasons.clone(),
        })?,
        audio: audio_from_row(row)?,
        seat: get(row, 20)?,
        end_reason: get_enum(row, 21)?,
        ended_by: get_enum(row, 22)?,
        location: location_from_row(row)?,
        kecamatan: get(row, 27)?,
        kelurahan: get(row, 28)?,
        disposition: disposition_from_row(row)?,
        media: get::<Option<String>>(row, 36)?
            .map(|text| {
                serde_json::from_str(&text).map_err(|_| StoreError::Corrupt {
                    column: "media",
                    value: text,
                })
            })
            .transpose()?,
    })
}

fn audio_from_row(row: &Row<'_>) -> Result<Option<AudioStats>, StoreError> {
    let Some(speech_ms) = get::<Option<u32>>(row, 15)? else {
        return Ok(None);
    };
    Ok(Some(AudioStats {
        speech_ms,
        silence_ms: get::<Option<u32>>(row, 16)?.unwrap_or(0),
        mean_dbfs: get::<Option<f64>>(row, 17)?.map(|v| v as f32),
        peak_dbfs: get::<Option<f64>>(row, 18)?.map(|v| v as f32),
        dtmf: get::<Option<String>>(row, 19)?.unwrap_or_default(),
    }))
}

fn location_from_row(row: &Row<'_>) -> Result<Option<Location>, StoreError> {
    let (Some(lat), Some(lon)) = (get::<Option<f64>>(row, 23)?, get::<Option<f64>>(row, 24)?)
    else {
        return Ok(None);
    };
    Ok(Some(Location {
        lat,
        lon,
        accuracy_m: get::<Option<f64>>(row, 25)?.map(|v| v as f32),
        source: get::<Option<String>>(row, 26)?.unwrap_or_default(),
    }))
}

fn disposition_from_row(row: &Row<'_>) -> Result<Option<Disposition>, StoreError> {
    let Some(category) = get::<Option<String>>(row, 29)? else {
        return Ok(None);
    };
    Ok(Some(Disposition {
        category,
        mark: get_enum(row, 30)?.ok_or(StoreError::Corrupt {
            column: "mark",
            value: String::new(),
        })?,
        kecamatan: get(row, 31)?,
        kelurahan: get(row, 32)?,
        notes: get::<Option<String>>(row, 33)?.unwrap_or_default(),
        by: get::<Option<String>>(row, 34)?.unwrap_or_default(),
        at: get_ts(row, 35)?.unwrap_or_default(),
    }))
}
