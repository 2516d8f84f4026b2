"""LMS z-scores (WHO Child Growth Standards: Methods and development, ch. 7; profile §6.9)."""

import math

from ilp_api.ilp.growth.tables import LMS


def lms_z(y: float, lms: LMS) -> float:
    """z = ((y/M)^L - 1)/(L·S), or ln(y/M)/S when L = 0."""
    l, m, s = lms  # noqa: E741 - the WHO name of the Box-Cox power
    if l == 0:
        return math.log(y / m) / s
    return (math.pow(y / m, l) - 1) / (l * s)


def sd_value(lms: LMS, k: float) -> float:
    """The measurement at z = k: SDk = M(1 + L·S·k)^(1/L)."""
    l, m, s = lms  # noqa: E741
    if l == 0:
        return m * math.exp(s * k)
    return m * math.pow(1 + l * s * k, 1 / l)


def restricted_z(y: float, lms: LMS) -> float:
    """The WHO restricted tail for weight-based indices: beyond ±3 SD the LMS curve is replaced by a
    straight line whose slope is the 2-to-3 SD distance, so extreme weights do not stretch the scale."""
    z = lms_z(y, lms)
    if z > 3:
        sd3, sd2 = sd_value(lms, 3), sd_value(lms, 2)
        return 3 + (y - sd3) / (sd3 - sd2)
    if z < -3:
        sd3neg, sd2neg = sd_value(lms, -3), sd_value(lms, -2)
        return -3 + (y - sd3neg) / (sd2neg - sd3neg)
    return z
