"""Studies over the library, like toolkit.demo a pipeline of its stages.

`make bench` (`python -m toolkit.study`): trains, exports and quantizes, then measures
every comparison side by side into REPORT.md and report.json (pipeline.py orders them,
markdown.py renders them). `cnnkit compare` (zoo.py): the zoo exported and timed.
They use torch through toolkit.train and toolkit.export, and time with toolkit.bench.
"""
