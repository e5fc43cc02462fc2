package lambdaapi

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Bounds on a deployment package, each checked before what it bounds is
// read.
const (
	// maxCodeRequest is Lambda's bound on a CreateFunction or
	// UpdateFunctionCode request: a 50 MB zip, base64-encoded (50 MiB * 4/3).
	// Lambda answers 413 RequestEntityTooLargeException "Request must be
	// smaller than 69905067 bytes for the CreateFunction operation"
	// (localstack/localstack#2999 quotes AWS; prisma/ecosystem-tests#1507
	// the UpdateFunctionCode one).
	maxCodeRequest = 69905067
	// maxUnzipped is Lambda's quota on a package's unzipped size, "250 MB
	// (unzipped)" (Lambda quotas), answered with InvalidParameterValueException
	// "Unzipped size must be smaller than 262144000 bytes". eddy holds the
	// sum of the sizes the archive declares to it; only the .wasm entry is
	// ever inflated, and that one is held to Options.MaxCodeSize.
	maxUnzipped = 262144000
	// maxZipEntries: eddy's; a package is one .wasm and perhaps a few
	// notes. Lambda documents no count.
	maxZipEntries = 1000
	// maxZipDirectory bounds the bytes archive/zip walks as the central
	// directory (from its offset to the end of the input, whatever the
	// end record claims), so the count of entries it parses before
	// maxZipEntries can be checked is bounded too: at most ~23,000 headers.
	maxZipDirectory = 1 << 20
)

// decodeCode decodes the body of a CreateFunction or UpdateFunctionCode
// request (op) read through Lambda's limit on it.
func (h *handler) decodeCode(w http.ResponseWriter, r *http.Request, v any, op string) error {
	r.Body = http.MaxBytesReader(w, r.Body, min(h.maxBody, maxCodeRequest))
	err := decode(r, v)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", true,
			fmt.Sprintf("Request must be smaller than %d bytes for the %s operation", mbe.Limit, op)}
	}
	return err
}

// unpackCode accepts a zip with exactly one .wasm entry or raw wasm bytes,
// and returns the module's bytes. A zip is refused before anything is
// inflated when its central directory is too large, it has too many
// entries, an entry's path escapes the archive, or the sizes it declares
// pass maxUnzipped (all entries) or maxCode (the .wasm); the .wasm is then
// read through a limit of maxCode+1 bytes, so a declaration that lies
// costs no more than an honest one (archive/zip also fails an entry that
// inflates past its declared size).
func unpackCode(b []byte, maxCode int) ([]byte, error) {
	switch {
	case len(b) == 0:
		return nil, invalidParam("Code.ZipFile is required")
	case bytes.HasPrefix(b, []byte("\x00asm")):
		return b, nil
	case !bytes.HasPrefix(b, []byte("PK")):
		return nil, invalidZip("Could not unzip uploaded file: Code.ZipFile must be a zip holding one .wasm file, or a raw .wasm module")
	}
	if err := checkZipDirectory(b); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if errors.Is(err, zip.ErrInsecurePath) {
		return nil, invalidZip("Could not unzip uploaded file: an entry's path is absolute or leaves the archive")
	}
	if err != nil {
		return nil, invalidZip("Could not unzip uploaded file: " + err.Error())
	}
	if len(zr.File) > maxZipEntries {
		return nil, invalidZip(fmt.Sprintf("Could not unzip uploaded file: the zip file holds %d entries, more than eddy's %d", len(zr.File), maxZipEntries))
	}
	unzipped := func(limit int64) error {
		return invalidParam(fmt.Sprintf("Unzipped size must be smaller than %d bytes", limit))
	}
	var found *zip.File
	var total uint64
	for _, f := range zr.File {
		// archive/zip reports these only under GODEBUG=zipinsecurepath=0.
		if name := strings.TrimSuffix(f.Name, "/"); !fs.ValidPath(name) || strings.Contains(name, `\`) {
			return nil, invalidZip("Could not unzip uploaded file: an entry's path is absolute or leaves the archive")
		}
		if total += f.UncompressedSize64; total > maxUnzipped || total < f.UncompressedSize64 {
			return nil, unzipped(maxUnzipped)
		}
		if path.Ext(f.Name) != ".wasm" || f.Mode().IsDir() {
			continue
		}
		if !f.Mode().IsRegular() {
			return nil, invalidZip(fmt.Sprintf("Could not unzip uploaded file: %s is not a regular file (%v)", f.Name, f.Mode()&fs.ModeType))
		}
		if found != nil {
			return nil, invalidZip("The zip file holds more than one .wasm file")
		}
		found = f
	}
	if found == nil {
		return nil, invalidZip("The zip file holds no .wasm file")
	}
	if found.UncompressedSize64 > uint64(maxCode) {
		return nil, unzipped(int64(maxCode))
	}
	rc, err := found.Open()
	if err != nil {
		return nil, invalidZip("Could not unzip uploaded file: " + err.Error())
	}
	defer rc.Close()
	code, err := io.ReadAll(io.LimitReader(rc, int64(maxCode)+1))
	if err != nil {
		return nil, invalidZip("Could not unzip uploaded file: " + err.Error())
	}
	if len(code) > maxCode {
		return nil, unzipped(int64(maxCode))
	}
	return code, nil
}

// checkZipDirectory reads the end of central directory record and refuses
// an archive whose directory (which archive/zip parses whole, entry by
// entry, from the recorded offset to the end of the input) is larger than
// maxZipDirectory, or that needs zip64 (no .wasm eddy accepts does).
func checkZipDirectory(b []byte) error {
	const eocdLen = 22
	from := max(0, len(b)-eocdLen-65535) // the comment is at most 64 KiB
	i := bytes.LastIndex(b[from:], []byte("PK\x05\x06"))
	if i < 0 || from+i+eocdLen > len(b) {
		return invalidZip("Could not unzip uploaded file: zip: not a valid zip file")
	}
	end := b[from+i:]
	records := binary.LittleEndian.Uint16(end[10:])
	offset := binary.LittleEndian.Uint32(end[16:])
	if records == 0xffff || binary.LittleEndian.Uint32(end[12:]) == 0xffffffff || offset == 0xffffffff {
		return invalidZip("Could not unzip uploaded file: zip64 archives are not accepted")
	}
	if records > maxZipEntries {
		return invalidZip(fmt.Sprintf("Could not unzip uploaded file: the zip file holds %d entries, more than eddy's %d", records, maxZipEntries))
	}
	if int64(len(b))-int64(offset) > maxZipDirectory+eocdLen+65535 {
		return invalidZip("Could not unzip uploaded file: the central directory is larger than 1 MiB")
	}
	return nil
}
