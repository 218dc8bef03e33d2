"""x264 in segments, so that ffmpeg.wasm's output can be uploaded while it encodes.

One ffmpeg.wasm run hands nothing over until it ends, so a clip it streams is encoded in runs
of a few seconds each (``ffmpeg_args.segment_args``). Their H.264 joins without re-encoding:
each run begins with a keyframe, and the engine muxes every run's packets, re-timed to the
source's frames, into one fragmented MP4 with the source's own audio (a fragment per keyframe
interval, kept and uploaded like the WebCodecs engine's).

A run decodes the source from the keyframe before its start, so runs begin on the source's
own keyframes wherever one lies at a fitting distance: then no frame is decoded twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from client.core.media import MediaInfo
from client.core.presets import KEY_INTERVAL_S

# A run's length: long enough that each run's start-up (opening the input, seeking, x264's
# lookahead) is small beside its encode, short enough that the upload follows closely.
SHORTEST_S = 2 * KEY_INTERVAL_S
LONGEST_S = 3 * KEY_INTERVAL_S


def segment_bounds(duration: float, keyframes: Sequence[float] | None) -> tuple[float, ...]:
    """Where each run begins, in source seconds: 0, then for each next run the last source
    keyframe from ``SHORTEST_S`` to ``LONGEST_S`` after the one before began. With none there,
    the run ends where the run after it can begin on the next keyframe (at least ``SHORTEST_S``
    before it), or ``LONGEST_S`` after it began. The rest of the clip goes in one run once it fits."""
    keys = sorted(k for k in keyframes or () if 0 < k < duration)
    bounds = [0.0]
    while duration - bounds[-1] > LONGEST_S:
        start = bounds[-1]
        fitting = [k for k in keys if start + SHORTEST_S <= k <= start + LONGEST_S]
        later = [k for k in keys if k > start + LONGEST_S]
        if fitting:
            bounds.append(fitting[-1])
        elif later:
            bounds.append(max(start + SHORTEST_S, min(start + LONGEST_S, later[0] - SHORTEST_S)))
        else:
            bounds.append(start + LONGEST_S)
    return tuple(bounds)


def streams_in_segments(media: MediaInfo) -> bool:
    """Whether x264's output can be made and sent in segments: the browser reads the container
    (for the source's frame times and its audio), and the audio, copied as it is, is AAC or
    absent (the whole-file encode converts other audio to AAC)."""
    return media.browser_reads and media.audio_codec in ("", "aac")

