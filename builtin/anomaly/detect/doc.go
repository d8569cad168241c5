// Package detect is the streaming anomaly detection engine of the
// anomaly-detector plugin. A Model follows one metric: Observe scores a
// point and then adds it, in O(1) time and with bounded memory, and the
// model serialises to bytes with MarshalBinary.
//
// Each point goes through these detectors, each giving a tail probability:
//
//   - statistical: the z-score against the baseline (mean and standard
//     deviation, or median and 1.4826·MAD when robust), and against the
//     recent level of the metric;
//   - volatility: the short-run mean absolute change against its usual value;
//   - seasonal: the z-score against the mean of the point's phase;
//   - trend: the moving average against its usual range;
//   - pattern: how rarely the shape of the last four points occurred before.
//
// The smallest tail probability, corrected for the number of detectors,
// gives the point's surprisal. Once the point's seasonal phase has a
// baseline, the baseline z-score and the pattern detector, which measure
// the value against the season-blind baseline, are left out of it. The
// mean surprisal of the last 8 points is graded against the metric's own
// history of it (see score.go), which gives a score in [0, 1] that means
// the same for every metric. DetectValue grades a single value on the
// same scale by its own two-sided tail probability (see valueScore).
//
// The range test alone decides the first 8 points after the baseline is
// ready, while the score's recent window fills. Such a point is an anomaly
// at 1.5k standard deviations or more from its seasonal phase's baseline,
// or from the baseline when the phase is not known.
//
// After that, a point is an anomaly when no alert of the metric is cooling
// down and either its score reaches the score threshold, raised after
// recent alerts (alert-rate control), and a statistical, seasonal or trend
// detector puts it outside its expected range by at least k standard
// deviations, k = std_dev_threshold·(1.7 − sensitivity), or a score of at
// least 0.75 replaces the range test. An anomaly raised by that score alone
// is named after the detector that contributed the most surprisal to the
// last 8 points, and its message says that those points, not the value,
// are unusual. More rules raise an anomaly without that test:
//
//   - a spike, a jump of at least spike_threshold standard deviations from
//     the baseline, or from the closest of the point's seasonal phase and
//     the two beside it, away from a point that was nearer. A spike farther
//     than the anomaly that started a cooldown breaks through it;
//   - a novelty, a value beyond every value the metric has had (see
//     novelty.go);
//   - a shift record, a CUSUM of the z-scores against the baseline or of
//     the volatility's z-scores higher than ever before (see shift.go);
//   - a seasonal z-score of at least 8k, or of at least 4k that is also a
//     record for the current period. Both count only when the value is as
//     far from the two phases beside its own, so that a cycle that runs one
//     phase early or late is not an anomaly.
//
// While an alert cools down, a level shift whose first points raised that
// alert is still reported as one trend anomaly, with its start, once the
// moving average of the points after the alert has confirmed it for four
// whole windows. A burst that ends sooner is not a shift.
// decide.go has the whole rule. SeverityFor
// grades an anomaly by its deviation against k, and
// CollectiveSeverityFor grades a collective anomaly by the share of metrics
// involved.
package detect
