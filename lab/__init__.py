"""The lab: training, evaluation, benchmarks and the sample generator. It imports the product; the product never imports it."""
