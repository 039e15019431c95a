"""Reading CSV files as they come: encodings, a byte-order mark, delimiters, ragged lines."""

import polars as pl
import pytest

from linkage import LinkageInputError
from linkage.reading import read_table, sniff_delimiter


def _write(tmp_path, data: bytes, name="input.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_byte_order_mark_does_not_join_the_first_column_name(tmp_path):
    path = _write(tmp_path, "\ufeffid,name\n1,Zoë\n".encode())
    frame = read_table(path)
    assert frame.columns == ["id", "name"]
    assert frame.get_column("name").to_list() == ["Zoë"]


def test_cp1252_file_is_read_with_its_encoding(tmp_path):
    path = _write(tmp_path, "id,name\n1,Zoë\n2,Renée\n".encode("cp1252"))
    frame = read_table(path, encoding="cp1252")
    assert frame.get_column("name").to_list() == ["Zoë", "Renée"]


def test_wrong_encoding_names_the_line(tmp_path):
    path = _write(tmp_path, "id,name\n1,Ann\n2,Zoë\n".encode("latin-1"))
    with pytest.raises(LinkageInputError) as info:
        read_table(path)
    message = str(info.value)
    assert str(path) in message
    assert "invalid utf-8" in message
    assert "line 3" in message  # header is line 1, "1,Ann" line 2


def test_unknown_encoding_is_named(tmp_path):
    path = _write(tmp_path, b"id\n1\n")
    with pytest.raises(LinkageInputError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")


@pytest.mark.parametrize(("delimiter", "expected"), [(";", ";"), ("\t", "\t"), ("|", "|")])
def test_delimiter_is_sniffed(tmp_path, delimiter, expected):
    text = delimiter.join(["id", "first", "dob"]) + "\n"
    text += delimiter.join(["1", "Ann", "27/03/1980"]) + "\n"
    text += delimiter.join(["2", "Bob", "01/02/1975"]) + "\n"
    path = _write(tmp_path, text.encode())
    assert sniff_delimiter(text) == expected
    frame = read_table(path)
    assert frame.columns == ["id", "first", "dob"]
    assert frame.get_column("dob").to_list() == ["27/03/1980", "01/02/1975"]


def test_given_delimiter_overrides_the_sniffer(tmp_path):
    # A comma inside every value would fool a sniffer; the given delimiter decides.
    path = _write(tmp_path, b"id;name\n1;Smith, Ann\n2;Jones, Bob\n")
    frame = read_table(path, delimiter=";")
    assert frame.get_column("name").to_list() == ["Smith, Ann", "Jones, Bob"]


def test_ragged_line_is_named(tmp_path):
    path = _write(tmp_path, b"id,first,last\n1,Ann,Lee\n2,Bob\n3,Cy,Dee\n")
    with pytest.raises(LinkageInputError) as info:
        read_table(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 3 has 2 fields but the header has 3" in message


def test_quoted_newline_is_not_ragged(tmp_path):
    path = _write(tmp_path, b'id,name\n1,"Ann\nLee"\n2,Bob\n')
    assert read_table(path).get_column("id").to_list() == ["1", "2"]


def test_blank_trailing_line_is_not_ragged(tmp_path):
    path = _write(tmp_path, b"id,name\n1,Ann\n\n")
    assert read_table(path).height == 1


def test_empty_file(tmp_path):
    path = _write(tmp_path, b"")
    with pytest.raises(LinkageInputError, match="empty CSV"):
        read_table(path)


def test_padded_header_names_are_matched_without_their_spaces(tmp_path):
    path = _write(tmp_path, b"rec_id, given_name, surname\nrec-1-org, ann, lee\n")
    frame = read_table(path, ["rec_id", "surname"])
    assert frame.columns == ["rec_id", "surname"]
    assert frame.get_column("surname").to_list() == [" lee"]  # values are standardised later


def test_the_invalid_byte_is_counted_from_the_start_of_the_file(tmp_path):
    # "id,name\n" is 8 bytes, "1,Ann\n" 6 more; the latin-1 e-umlaut is byte 4 of line 3.
    path = _write(tmp_path, "id,name\n1,Ann\n2,Zoë\n".encode("latin-1"))
    with pytest.raises(LinkageInputError, match=r"line 3 \(byte 18\)"):
        read_table(path)


def test_a_utf16_file_is_read_whole_with_its_encoding(tmp_path):
    # Its line breaks are two bytes, so it cannot be split into lines at b"\n".
    path = _write(tmp_path, "id;name\n1;Zoë\n2;Renée\n".encode("utf-16"))
    frame = read_table(path, encoding="utf-16")
    assert frame.columns == ["id", "name"]
    assert frame.get_column("name").to_list() == ["Zoë", "Renée"]


def test_a_csv_is_written_as_parquet_a_batch_at_a_time(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    import linkage.reading as reading

    monkeypatch.setattr(reading, "BATCH_ROWS", 2)
    text = "id,first,last\n" + "".join(f"{i},Ann{i},Lee\n" for i in range(5)) + "5,,\n\n"
    path = _write(tmp_path, text.encode())
    out = tmp_path / "out.parquet"
    reading.csv_to_parquet(path, ["id", "first"], out, encoding="utf-8", delimiter=None)
    assert pq.ParquetFile(out).metadata.num_row_groups == 3, "two rows a batch, six rows"
    written = pl.read_parquet(out)
    assert written.equals(read_table(path, ["id", "first"]))
    assert written.get_column("id").to_list() == ["0", "1", "2", "3", "4", "5"]
    assert written.get_column("first").to_list()[-1] is None, "an empty field is missing"
    with pytest.raises(LinkageInputError, match="column not found: nino"):
        reading.csv_to_parquet(path, ["nino"], out, encoding="utf-8", delimiter=None)


def test_a_header_only_file_gives_an_empty_table_of_its_columns(tmp_path):
    frame = read_table(_write(tmp_path, b"id,name\n"))
    assert frame.columns == ["id", "name"]
    assert frame.height == 0


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "latin-1"])
def test_an_ascii_compatible_file_is_decoded_a_line_at_a_time(tmp_path, monkeypatch, encoding):
    import linkage.reading as reading

    def whole(*_):
        raise AssertionError("the whole file was decoded at once")

    monkeypatch.setattr(reading, "decode_text", whole)
    path = _write(
        tmp_path,
        "\ufeffid,name\n1,Zoë\n".encode("utf-8")
        if encoding == "utf-8"
        else "id,name\n1,Zoë\n".encode(encoding),
    )
    assert read_table(path, encoding=encoding).get_column("name").to_list() == ["Zoë"]
