package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
)

// This file fakes Slack files: files a user shares with the bot in a DM
// (a message event with subtype file_share, downloadable with the bot token
// from url_private_download), and the bot's own uploads through
// files.getUploadURLExternal, a POST to the upload URL and
// files.completeUploadExternal.

// File is a file in the fake workspace.
type File struct {
	ID, Name, Title, Channel, User string
	Content                        []byte
	Shared                         bool // completed and shared in Channel
}

type fileStore struct {
	mu    sync.Mutex
	next  int
	files map[string]*File
}

func (f *fileStore) add(file *File) *File {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files == nil {
		f.files = map[string]*File{}
	}
	f.next++
	file.ID = fmt.Sprintf("F%07d", f.next)
	f.files[file.ID] = file
	return file
}

func (f *fileStore) get(id string) (*File, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.files[id]
	return file, ok
}

func init() {
	apiMethods["files.getUploadURLExternal"] = apiMethod{tokenBot, (*Server).filesGetUploadURL}
	apiMethods["files.completeUploadExternal"] = apiMethod{tokenBot, (*Server).filesCompleteUpload}
	methodScopes["files.getUploadURLExternal"] = "files:write"
	methodScopes["files.completeUploadExternal"] = "files:write"
}

// maxUpload is the most the fake accepts in one upload.
const maxUpload = 5 << 20

func (s *Server) filesGetUploadURL(p *params) result {
	name := p.str("filename")
	var length int
	_, err := fmt.Sscan(p.str("length"), &length)
	if name == "" || err != nil || length <= 0 {
		return apiError("invalid_arguments")
	}
	if length > maxUpload {
		return apiError("file_too_large")
	}
	f := s.files.add(&File{Name: name, User: BotUserID})
	return result{"ok": true, "upload_url": s.hs.URL + "/upload/" + f.ID, "file_id": f.ID}
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	f, ok := s.files.get(id)
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	var body []byte
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(io.LimitReader(r.Body, maxUpload+1<<16), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "file" {
				body, _ = io.ReadAll(io.LimitReader(part, maxUpload))
			}
		}
	} else {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxUpload))
	}
	s.files.mu.Lock()
	f.Content = body
	s.files.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("OK - " + fmt.Sprint(len(body))))
}

func (s *Server) filesCompleteUpload(p *params) result {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(p.str("files")), &list); err != nil || len(list) == 0 {
		return apiError("invalid_arguments")
	}
	s.mu.Lock()
	ch, _, code := s.resolveChannelLocked(p.str("channel_id"), true)
	s.mu.Unlock()
	if code != "" {
		return apiError(code)
	}
	var out []map[string]any
	for _, it := range list {
		f, ok := s.files.get(it.ID)
		if !ok || f.Content == nil {
			return apiError("file_not_found")
		}
		s.files.mu.Lock()
		f.Title, f.Channel, f.Shared = it.Title, ch, true
		s.files.mu.Unlock()
		out = append(out, map[string]any{"id": f.ID, "title": it.Title})
	}
	return result{"ok": true, "files": out}
}

// Files returns the files the bot uploaded and shared in channel.
func (s *Server) Files(channel string) []File {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	var out []File
	for _, f := range s.files.files {
		if f.Shared && f.Channel == channel && f.User == BotUserID {
			out = append(out, *f)
		}
	}
	return out
}

// ShareFile has user share a file with the bot in their DM, as Slack reports
// it: a message event (subtype file_share, channel_type im) whose file can be
// downloaded from url_private_download with the bot token.
func (s *Server) ShareFile(ctx context.Context, userID, name, mimetype string, content []byte) (Ack, error) {
	return s.shareFile(ctx, userID, &File{Name: name, User: userID, Content: content, Shared: true}, mimetype, "")
}

// ShareRemoteFile has user share a file whose url_private and
// url_private_download are link, as for a remote or external file (whose URL
// is whatever its creator chose) or in a forged event. The fake serves
// nothing for it: whatever is at link answers.
func (s *Server) ShareRemoteFile(ctx context.Context, userID, name, link string) (Ack, error) {
	return s.shareFile(ctx, userID, &File{Name: name, User: userID, Shared: true}, "text/csv", link)
}

// shareFile sends the file_share event for file, downloadable from link or,
// if link is "", from the fake's own url_private_download.
func (s *Server) shareFile(ctx context.Context, userID string, file *File, mimetype, link string) (Ack, error) {
	s.mu.Lock()
	if _, ok := s.users[userID]; !ok {
		s.mu.Unlock()
		return Ack{}, fmt.Errorf("fakeslack: unknown user %s", userID)
	}
	dm := s.openDMLocked(userID)
	ts := s.nextTSLocked()
	s.mu.Unlock()
	file.Channel = dm
	f := s.files.add(file)
	private, download, mode := link, link, "external"
	if link == "" {
		mode = "hosted"
		private = s.hs.URL + "/files-pri/" + f.ID + "/" + f.Name
		download = private + "?download=1"
	}
	return s.Event(ctx, map[string]any{
		"type": "message", "subtype": "file_share", "channel": dm, "channel_type": "im",
		"user": userID, "text": "", "ts": ts, "event_ts": ts,
		"files": []any{map[string]any{
			"id": f.ID, "name": f.Name, "title": f.Name, "mimetype": mimetype, "filetype": "csv",
			"size": len(f.Content), "user": userID, "mode": mode, "is_external": link != "",
			"url_private": private, "url_private_download": download,
		}},
	}, 0)
}

// handleFileDownload serves a shared file to the bot token only, as Slack's
// url_private does.
func (s *Server) handleFileDownload(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/files-pri/")
	id, _, _ := strings.Cut(rest, "/")
	if r.Header.Get("Authorization") != "Bearer "+s.opts.BotToken {
		s.violation("file %s downloaded without the bot token", id)
		http.Error(w, "not authorized", http.StatusForbidden)
		return
	}
	f, ok := s.files.get(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(f.Content)
}
