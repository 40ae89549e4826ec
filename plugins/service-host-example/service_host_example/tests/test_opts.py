"""The options of the example plugin, as oslo-config-generator sees them."""

from oslo_config import generator

from service_host_example import opts


def test_options_live_in_the_example_group():
    [(group, group_opts)] = opts.list_opts()
    assert group.name == "example"
    assert [opt.name for opt in group_opts] == ["greeting", "record_dir"]


def test_the_sample_config_has_them(tmp_path):
    sample = tmp_path / "example.conf.sample"
    generator.main(["--namespace", "service_host_example", "--output-file", str(sample)])
    text = sample.read_text()
    assert "[example]" in text
    assert "#greeting = hello" in text
